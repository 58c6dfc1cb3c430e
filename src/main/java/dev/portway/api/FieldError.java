package dev.portway.api;

import java.util.Objects;

/**
 * One validation error on one field, rendered exactly as the Kubernetes API server renders it
 * ({@code k8s.io/apimachinery/pkg/util/validation/field}):
 * {@code spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive}.
 *
 * @param type     what is wrong
 * @param field    where
 * @param badValue the offending value ({@link #OMIT} when the type does not print one)
 * @param detail   the explanation, may be empty
 */
public record FieldError(Type type, FieldPath field, Object badValue, String detail) {

    /** Marks an error whose body prints no value. */
    public static final Object OMIT = new Object() {
        @Override
        public String toString() {
            return "<omitted>";
        }
    };

    public FieldError {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(field, "field");
        detail = detail == null ? "" : detail;
    }

    /** The kinds of field errors, with the API server's wording. */
    public enum Type {
        NOT_FOUND("Not found", "FieldValueNotFound"),
        REQUIRED("Required value", "FieldValueRequired"),
        DUPLICATE("Duplicate value", "FieldValueDuplicate"),
        INVALID("Invalid value", "FieldValueInvalid"),
        NOT_SUPPORTED("Unsupported value", "FieldValueNotSupported"),
        FORBIDDEN("Forbidden", "FieldValueForbidden"),
        TOO_LONG("Too long", "FieldValueTooLong"),
        TOO_MANY("Too many", "FieldValueTooMany"),
        INTERNAL("Internal error", "InternalError"),
        TYPE_INVALID("Invalid value", "FieldValueTypeInvalid");

        private final String text;
        private final String causeType;

        Type(String text, String causeType) {
            this.text = text;
            this.causeType = causeType;
        }

        /** The text printed in messages: "Invalid value". */
        public String text() {
            return text;
        }

        /** The {@code StatusCause.type} of the REST API: "FieldValueInvalid". */
        public String causeType() {
            return causeType;
        }
    }

    public static FieldError required(FieldPath field, String detail) {
        return new FieldError(Type.REQUIRED, field, OMIT, detail);
    }

    public static FieldError invalid(FieldPath field, Object value, String detail) {
        return new FieldError(Type.INVALID, field, value, detail);
    }

    public static FieldError forbidden(FieldPath field, String detail) {
        return new FieldError(Type.FORBIDDEN, field, OMIT, detail);
    }

    public static FieldError duplicate(FieldPath field, Object value) {
        return new FieldError(Type.DUPLICATE, field, value, "");
    }

    public static FieldError notFound(FieldPath field, Object value) {
        return new FieldError(Type.NOT_FOUND, field, value, "");
    }

    public static FieldError tooLong(FieldPath field, int maxLength) {
        return new FieldError(Type.TOO_LONG, field, OMIT,
                maxLength >= 0 ? "may not be more than " + maxLength + (maxLength == 1 ? " byte" : " bytes") : "value is too long");
    }

    public static FieldError tooMany(FieldPath field, int actual, int max) {
        String detail = max >= 0 ? "must have at most " + max + (max == 1 ? " item" : " items") : "has too many items";
        return new FieldError(Type.TOO_MANY, field, actual >= 0 ? actual : OMIT, detail);
    }

    public static FieldError internal(FieldPath field, String detail) {
        return new FieldError(Type.INTERNAL, field, OMIT, detail);
    }

    /**
     * {@code Unsupported value: "Foo": supported values: "A", "B"}; the valid values are printed in
     * the order given (the API server sorts them).
     */
    public static FieldError notSupported(FieldPath field, Object value, String... validValues) {
        StringBuilder detail = new StringBuilder();
        if (validValues.length > 0) {
            detail.append("supported values: ");
            for (int i = 0; i < validValues.length; i++) {
                if (i > 0) {
                    detail.append(", ");
                }
                detail.append(GoValues.quote(validValues[i]));
            }
        }
        return new FieldError(Type.NOT_SUPPORTED, field, value, detail.toString());
    }

    /** The error without its field path: {@code Invalid value: 0: must be between ...}. */
    public String body() {
        String s;
        if (badValue == OMIT || switch (type) {
            case REQUIRED, FORBIDDEN, TOO_LONG, INTERNAL -> true;
            default -> false;
        }) {
            s = type.text;
        } else {
            s = type.text + ": " + GoValues.format(badValue);
        }
        return detail.isEmpty() ? s : s + ": " + detail;
    }

    @Override
    public String toString() {
        return field + ": " + body();
    }
}
