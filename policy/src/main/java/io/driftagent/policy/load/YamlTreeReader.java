package io.driftagent.policy.load;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;

/**
 * Reads one YAML document into a {@link YamlNode} tree from snakeyaml-engine's event stream, enforcing the
 * {@link LoadLimits} while streaming: nesting depth and node count are checked as events arrive, aliases are
 * refused (no alias expansion, so no alias bomb), a second document is refused.
 */
final class YamlTreeReader {
    private final LoadLimits limits;

    YamlTreeReader(LoadLimits limits) {
        this.limits = limits;
    }

    /** The document's root, or empty for a stream without any document. */
    Optional<YamlNode> read(String sourceName, String text) throws YamlReadException {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(sourceName)
                .setCodePointLimit(Math.max(limits.maxBytes(), 1))
                .setMaxAliasesForCollections(0)
                .setAllowDuplicateKeys(true) // reported by the policy reader with both positions
                .setParseComments(false)
                .build();
        try {
            return build(new Parse(settings).parseString(text));
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().or(e::getContextMark);
            String message = e.getProblem() == null ? e.getMessage() : e.getProblem();
            throw new YamlReadException(ProblemCode.YAML_SYNTAX, mark.map(m -> m.getLine() + 1).orElse(1),
                    mark.map(m -> m.getColumn() + 1).orElse(1), "invalid YAML: " + firstLine(message)
                    + (e.getContext() == null ? "" : " (" + firstLine(e.getContext()) + ")"));
        } catch (ReaderException e) {
            int[] position = position(text, e.getPosition());
            throw new YamlReadException(ProblemCode.YAML_SYNTAX, position[0], position[1],
                    "invalid YAML: character U+" + String.format("%04X", e.getCodePoint()) + " is not allowed");
        } catch (RuntimeException | StackOverflowError e) {
            // the parser's own guards (e.g. the code point limit) and anything unforeseen: never escapes
            throw new YamlReadException(ProblemCode.YAML_SYNTAX, 1, 1, "invalid YAML: " + firstLine(String.valueOf(e.getMessage())));
        }
    }

    private Optional<YamlNode> build(Iterable<Event> events) throws YamlReadException {
        Deque<Collection> open = new ArrayDeque<>();
        YamlNode root = null;
        int documents = 0;
        int nodes = 0;
        for (Event event : events) {
            switch (event.getEventId()) {
                case DocumentStart:
                    documents++;
                    if (documents > 1) {
                        throw error(ProblemCode.MULTIPLE_DOCUMENTS, event,
                                "a policy file holds exactly one YAML document; remove the second '---' document");
                    }
                    break;
                case Alias:
                    throw error(ProblemCode.ALIAS_LIMIT, event, "aliases (*" + ((AliasEvent) event).getAlias()
                            + ") are not allowed in drift policies: write the value out");
                case Scalar: {
                    ScalarEvent scalar = (ScalarEvent) event;
                    nodes = count(nodes, event);
                    YamlNode node = YamlNode.Scalar.of(scalar.getValue(), scalar.getTag().orElse(null),
                            scalar.isPlain(), line(event), column(event));
                    root = attach(open, root, node);
                    break;
                }
                case SequenceStart:
                case MappingStart:
                    nodes = count(nodes, event);
                    if (open.size() + 1 > limits.maxDepth()) {
                        throw error(ProblemCode.TOO_DEEP, event,
                                "nesting deeper than " + limits.maxDepth() + " levels is not allowed");
                    }
                    open.push(new Collection(event.getEventId() == Event.ID.MappingStart, line(event), column(event)));
                    break;
                case SequenceEnd:
                case MappingEnd:
                    root = attach(open, root, open.pop().toNode());
                    break;
                default:
                    break;
            }
        }
        return Optional.ofNullable(root);
    }

    private int count(int nodes, Event event) throws YamlReadException {
        if (nodes + 1 > limits.maxNodes()) {
            throw error(ProblemCode.TOO_LARGE, event, "more than " + limits.maxNodes() + " YAML nodes");
        }
        return nodes + 1;
    }

    private static YamlNode attach(Deque<Collection> open, YamlNode root, YamlNode node) {
        if (open.isEmpty()) {
            return node;
        }
        open.peek().add(node);
        return root;
    }

    private static YamlReadException error(ProblemCode code, Event event, String message) {
        return new YamlReadException(code, line(event), column(event), message);
    }

    private static int line(Event event) {
        return event.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    private static int column(Event event) {
        return event.getStartMark().map(m -> m.getColumn() + 1).orElse(1);
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).trim();
    }

    /** 1-based line and column of a code-point offset. */
    static int[] position(String text, int codePointOffset) {
        int line = 1;
        int column = 1;
        int seen = 0;
        for (int i = 0; i < text.length() && seen < codePointOffset; seen++) {
            int cp = text.codePointAt(i);
            if (cp == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
            i += Character.charCount(cp);
        }
        return new int[] {line, column};
    }

    /** A mapping or sequence whose children are still arriving. */
    private static final class Collection {
        private final boolean mapping;
        private final int line;
        private final int column;
        private final List<YamlNode> children = new ArrayList<>();

        Collection(boolean mapping, int line, int column) {
            this.mapping = mapping;
            this.line = line;
            this.column = column;
        }

        void add(YamlNode node) {
            children.add(node);
        }

        YamlNode toNode() {
            if (!mapping) {
                return new YamlNode.Sequence(children, line, column);
            }
            List<YamlNode.Entry> entries = new ArrayList<>(children.size() / 2);
            for (int i = 0; i + 1 < children.size(); i += 2) {
                entries.add(new YamlNode.Entry(children.get(i), children.get(i + 1)));
            }
            return new YamlNode.Mapping(entries, line, column);
        }
    }
}
