package io.driftagent.policy.schema;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyKey;
import io.driftagent.policy.model.PolicyRule;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON schema (OpenAPI v3, structural: every object lists its properties) of a policy document's {@code rules} and
 * {@code defaultRule}, derived from the model: a rule's keys are {@link PolicyRule}'s record components (and so on
 * down), which are required is {@link PolicyKey#required()}, the closed sets are the enums' wire names. The
 * DriftPolicy CRD embeds it, so the API server checks what the loader checks for types, keys and closed sets; the
 * loader still checks the rest (globs, regexes, names, shadowing). Pure: builds maps and lists, no I/O.
 */
public final class PolicySchema {
    private PolicySchema() {
    }

    /** The schema of {@code rules}: a list of rules. */
    public static Map<String, Object> rules() {
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "array");
        schema.put("description", "Rules in the order their priority gives (lowest first); the first that applies"
                + " decides.");
        schema.put("items", object(PolicyRule.class));
        return schema;
    }

    /**
     * The schema of {@code defaultRule}. The model keeps the default rule's two values on
     * {@link io.driftagent.policy.model.DriftPolicy} ({@code defaultAction}, {@code defaultOnTimeout}); written, they
     * are the keys {@code action} (required) and {@code onTimeout}, with the closed sets of {@link Action} and
     * {@link OnTimeout}.
     */
    public static Map<String, Object> defaultRule() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("action", described(typeSchema(Action.class),
                "What happens to a drifted exec no rule decides (ignore when defaultRule is absent)."));
        properties.put("onTimeout", described(typeSchema(OnTimeout.class),
                "Only with action block: deny (default) or allow an exec whose decision is late."));
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "object");
        schema.put("description", "The built-in last rule.");
        schema.put("properties", properties);
        schema.put("required", List.of("action"));
        return schema;
    }

    /**
     * The schema of a record written as a mapping: one property per record component, each of which must carry
     * {@link PolicyKey} (a component without it is a model change whose written form nobody decided yet).
     */
    public static Map<String, Object> object(Class<? extends Record> type) {
        Map<String, Object> properties = new LinkedHashMap<>();
        List<String> required = new ArrayList<>();
        for (RecordComponent component : type.getRecordComponents()) {
            PolicyKey key = component.getAnnotation(PolicyKey.class);
            if (key == null) {
                throw new IllegalStateException(type.getSimpleName() + "." + component.getName()
                        + " has no @PolicyKey: say how it is written before it can be in the schema");
            }
            properties.put(component.getName(), described(typeSchema(component.getGenericType()), key.description()));
            if (key.required()) {
                required.add(component.getName());
            }
        }
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "object");
        schema.put("properties", properties);
        if (!required.isEmpty()) {
            schema.put("required", List.copyOf(required));
        }
        return schema;
    }

    /** The values of a closed set as written: wire names, or for {@link DriftKind} the drift kinds' names. */
    public static List<String> wireNames(Class<? extends Enum<?>> type) {
        List<String> names = new ArrayList<>();
        for (Enum<?> constant : type.getEnumConstants()) {
            if (constant instanceof DriftKind kind) {
                if (kind.isDrift()) {
                    names.add(kind.name());
                }
                continue;
            }
            names.add(wireName(constant));
        }
        return List.copyOf(names);
    }

    private static String wireName(Enum<?> constant) {
        try {
            Method method = constant.getDeclaringClass().getMethod("wireName");
            return (String) method.invoke(constant);
        } catch (NoSuchMethodException e) {
            return constant.name();
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("wireName() of " + constant, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> typeSchema(Type type) {
        Map<String, Object> schema = new LinkedHashMap<>();
        if (type instanceof ParameterizedType parameterized
                && parameterized.getRawType() instanceof Class<?> raw && Collection.class.isAssignableFrom(raw)) {
            schema.put("type", "array");
            schema.put("items", typeSchema(parameterized.getActualTypeArguments()[0]));
            return schema;
        }
        if (!(type instanceof Class<?> cls)) {
            throw new IllegalStateException("no schema for " + type);
        }
        if (cls == String.class || cls == AllowListEntry.class) {
            schema.put("type", "string"); // an allow-list entry is written as one string with its form's prefix
        } else if (cls == int.class || cls == Integer.class) {
            schema.put("type", "integer");
            schema.put("format", "int32");
        } else if (cls == boolean.class || cls == Boolean.class) {
            schema.put("type", "boolean");
        } else if (cls.isEnum()) {
            schema.put("type", "string");
            schema.put("enum", wireNames((Class<? extends Enum<?>>) cls));
        } else if (cls.isRecord()) {
            return object((Class<? extends Record>) cls);
        } else {
            throw new IllegalStateException("no schema for " + cls.getName() + "; known: "
                    + Arrays.asList("String", "int", "boolean", "enums", "records", "lists and sets of them"));
        }
        return schema;
    }

    private static Map<String, Object> described(Map<String, Object> schema, String description) {
        Map<String, Object> withDescription = new LinkedHashMap<>();
        withDescription.put("description", description);
        withDescription.putAll(schema);
        return withDescription;
    }
}
