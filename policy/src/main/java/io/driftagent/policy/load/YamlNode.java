package io.driftagent.policy.load;

import java.util.List;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.resolver.CoreScalarResolver;

/** A minimal YAML tree with 1-based positions, built by {@link YamlTreeReader}. Aliases never occur. */
sealed interface YamlNode permits YamlNode.Scalar, YamlNode.Sequence, YamlNode.Mapping {

    int line();

    int column();

    /** "a string", "a sequence", ... for messages. */
    String describe();

    /** Resolved YAML 1.2 core-schema type of a scalar. */
    enum ScalarType { STRING, INTEGER, FLOAT, BOOLEAN, NULL, OTHER }

    /**
     * @param value text as written (quotes removed)
     * @param type  the YAML 1.2 core-schema type: only untagged plain scalars resolve to non-string types
     * @param tag   explicit tag, or null when the scalar is untagged
     */
    record Scalar(String value, ScalarType type, String tag, int line, int column) implements YamlNode {
        private static final CoreScalarResolver RESOLVER = new CoreScalarResolver(false);

        static Scalar of(String value, String tag, boolean plain, int line, int column) {
            return new Scalar(value, resolve(value, tag, plain), tag, line, column);
        }

        private static ScalarType resolve(String value, String tag, boolean plain) {
            Tag resolved;
            if (tag != null) {
                resolved = new Tag(tag);
            } else if (!plain) {
                return ScalarType.STRING;
            } else {
                resolved = RESOLVER.resolve(value, Boolean.TRUE);
            }
            if (resolved.equals(Tag.STR)) {
                return ScalarType.STRING;
            } else if (resolved.equals(Tag.INT)) {
                return ScalarType.INTEGER;
            } else if (resolved.equals(Tag.FLOAT)) {
                return ScalarType.FLOAT;
            } else if (resolved.equals(Tag.BOOL)) {
                return ScalarType.BOOLEAN;
            } else if (resolved.equals(Tag.NULL)) {
                return ScalarType.NULL;
            }
            return ScalarType.OTHER;
        }

        @Override
        public String describe() {
            switch (type()) {
                case STRING:
                    return "a string";
                case INTEGER:
                    return "an integer";
                case FLOAT:
                    return "a number";
                case BOOLEAN:
                    return "a boolean";
                case NULL:
                    return "nothing (null)";
                default:
                    return "a value tagged " + tag;
            }
        }
    }

    record Sequence(List<YamlNode> items, int line, int column) implements YamlNode {
        public Sequence {
            items = List.copyOf(items);
        }

        @Override
        public String describe() {
            return "a sequence";
        }
    }

    record Entry(YamlNode key, YamlNode value) {
    }

    record Mapping(List<Entry> entries, int line, int column) implements YamlNode {
        public Mapping {
            entries = List.copyOf(entries);
        }

        @Override
        public String describe() {
            return "a mapping";
        }
    }
}
