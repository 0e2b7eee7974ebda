package io.driftagent.policy.model;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How a record component is written in a policy document: the key is the component's name. Read by
 * {@code io.driftagent.policy.schema.PolicySchema}, which derives the document's JSON schema (and the DriftPolicy
 * CRD's) from the model, so that the schema and the loader cannot disagree on keys or on which are required
 * ({@code PolicySchemaTest} checks both against the loader).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface PolicyKey {
    /** Whether the loader reports {@code MISSING_KEY} when the key is absent. */
    boolean required() default false;

    /** One sentence for schema readers ({@code kubectl explain}). */
    String description();
}
