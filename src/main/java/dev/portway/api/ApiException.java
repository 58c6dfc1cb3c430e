package dev.portway.api;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.api.model.StatusCauseBuilder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An API error carrying the Kubernetes {@code Status} object the REST API returns for it, with the
 * API server's codes, reasons and message wording ({@code k8s.io/apimachinery/pkg/api/errors}).
 */
public final class ApiException extends RuntimeException {

    private final transient Status status;

    public ApiException(Status status) {
        super(status.getMessage());
        this.status = status;
    }

    public Status status() {
        return status;
    }

    public int code() {
        return status.getCode();
    }

    public String reason() {
        return status.getReason();
    }

    /**
     * HTTP 422: {@code Service "web" is invalid: spec.ports[0].port: Invalid value: ...}. An object
     * without a name is {@code Service "" is invalid: metadata.name: Required value: ...}, as in Go,
     * where a missing name is the empty string.
     */
    public static ApiException invalid(ResourceKind kind, String name, List<FieldError> errors) {
        return invalid(kind.group(), kind.kind(), name, errors);
    }

    /**
     * HTTP 422 about a kind that is no resource (options: {@code ListOptions.meta.k8s.io "" is
     * invalid: ...}, {@code PodLogOptions "web" is invalid: ...}).
     */
    public static ApiException invalid(String group, String kind, String name, List<FieldError> errors) {
        name = name == null ? "" : name;
        List<StatusCause> causes = new ArrayList<>();
        for (FieldError e : errors) {
            causes.add(new StatusCauseBuilder()
                    .withReason(e.type().causeType())
                    .withMessage(e.body())
                    .withField(e.field().toString())
                    .build());
        }
        String message = (group.isEmpty() ? kind : kind + "." + group) + " " + GoValues.quote(name) + " is invalid";
        if (!errors.isEmpty()) {
            message += ": " + aggregate(errors.stream().map(FieldError::toString).toList());
        }
        return new ApiException(failure(422, "Invalid", message)
                .withNewDetails()
                .withGroup(group.isEmpty() ? null : group)
                .withKind(kind)
                .withName(name.isEmpty() ? null : name)
                .withCauses(causes)
                .endDetails()
                .build());
    }

    /** HTTP 404: {@code services "web" not found}. */
    public static ApiException notFound(ResourceKind kind, String name) {
        return about(kind, name, failure(404, "NotFound", kind.qualifiedResource() + " " + GoValues.quote(name) + " not found"));
    }

    /** HTTP 404 for a resource Portway keeps no objects of, as kube names it: {@code endpoints "web" not found}. */
    public static ApiException notFoundResource(String resource, String name) {
        return new ApiException(failure(404, "NotFound", resource + " " + GoValues.quote(name) + " not found")
                .withNewDetails().withKind(resource).withName(name).endDetails()
                .build());
    }

    /** HTTP 503: {@code no endpoints available for service "web"}. */
    public static ApiException serviceUnavailable(String message) {
        return new ApiException(failure(503, "ServiceUnavailable", message).build());
    }

    /** HTTP 403 naming the object refused, as kube's NewForbidden: {@code namespaces "default" is forbidden: why}. */
    public static ApiException forbidden(ResourceKind kind, String name, String why) {
        return about(kind, name, failure(403, "Forbidden", kind.qualifiedResource() + " " + GoValues.quote(name) + " is forbidden: " + why));
    }

    /** HTTP 404 for a namespace that does not exist: {@code namespaces "team-a" not found}. */
    public static ApiException namespaceNotFound(String namespace) {
        return notFound(ResourceKind.NAMESPACE, namespace);
    }

    /** HTTP 409: {@code services "web" already exists}. */
    public static ApiException alreadyExists(ResourceKind kind, String name) {
        return about(kind, name, failure(409, "AlreadyExists", kind.qualifiedResource() + " " + GoValues.quote(name) + " already exists"));
    }

    /** HTTP 409 for a stale resourceVersion. */
    public static ApiException conflict(ResourceKind kind, String name, String why) {
        return about(kind, name, failure(409, "Conflict", "Operation cannot be fulfilled on " + kind.qualifiedResource()
                + " " + GoValues.quote(name) + ": " + why));
    }

    /**
     * HTTP 409 as the API server's delete path words a precondition that no longer holds
     * ({@code rest.BeforeDelete}): the resource it names is the kind, {@code Operation cannot be
     * fulfilled on Service "web": the UID in the precondition (...) does not match ...}.
     */
    public static ApiException conflictOnKind(ResourceKind kind, String name, String why) {
        return about(kind, kind.kind(), name, failure(409, "Conflict", "Operation cannot be fulfilled on " + kind.qualifiedKind() + " "
                + GoValues.quote(name) + ": " + why));
    }

    /**
     * HTTP 409 for a write whose object names another uid than the stored one's (an object deleted
     * and made again meanwhile), as the API server's storage words its failed precondition.
     */
    public static ApiException uidPrecondition(ResourceKind kind, String namespace, String name, String uid, String storedUid) {
        return conflict(kind, name, "StorageError: invalid object, Code: 4, Key: " + kind.storageKey(namespace, name)
                + ", ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: " + uid
                + ", UID in object meta: " + storedUid);
    }

    /** HTTP 400. */
    public static ApiException badRequest(String message) {
        return new ApiException(failure(400, "BadRequest", message).build());
    }

    /** HTTP 413: {@code The allowed maximum operations in a JSON patch is 10000, got 10001}. */
    public static ApiException requestEntityTooLarge(String message) {
        return new ApiException(failure(413, "RequestEntityTooLarge", "Request entity too large: " + message).build());
    }

    /** HTTP 405. */
    public static ApiException methodNotAllowed(String message) {
        return new ApiException(failure(405, "MethodNotAllowed", message).build());
    }

    /** HTTP 500: {@code Internal error occurred: failed to allocate a nodePort: range is full}. */
    public static ApiException internal(String message) {
        return new ApiException(failure(500, "InternalError", "Internal error occurred: " + message)
                .withNewDetails()
                .addNewCause().withMessage(message).endCause()
                .endDetails()
                .build());
    }

    /** HTTP 403 (for example: creating objects in a namespace that is being deleted). */
    public static ApiException forbidden(String message) {
        return new ApiException(failure(403, "Forbidden", message).build());
    }

    /** An error about one object: its group, resource and name in the details, as kube's errors have them. */
    private static ApiException about(ResourceKind kind, String name, StatusBuilder failure) {
        return about(kind, kind.plural(), name, failure);
    }

    /** {@link #about(ResourceKind, String, StatusBuilder)} whose details name {@code detailsKind} (the kind, where kube names it). */
    private static ApiException about(ResourceKind kind, String detailsKind, String name, StatusBuilder failure) {
        return new ApiException(failure
                .withNewDetails()
                .withGroup(kind.group().isEmpty() ? null : kind.group())
                .withKind(detailsKind)
                .withName(name)
                .endDetails()
                .build());
    }

    private static StatusBuilder failure(int code, String reason, String message) {
        return new StatusBuilder()
                .withNewMetadata().endMetadata()
                .withStatus("Failure")
                .withMessage(message)
                .withReason(reason)
                .withCode(code);
    }

    /**
     * Joins messages as {@code k8s.io/apimachinery/pkg/util/errors} aggregates do: one message
     * alone, several as {@code [a, b]}, duplicates dropped.
     */
    public static String aggregate(List<String> messages) {
        Set<String> unique = new LinkedHashSet<>(messages);
        if (unique.size() == 1) {
            return unique.iterator().next();
        }
        return "[" + String.join(", ", unique) + "]";
    }

    /**
     * The message kubectl prints for this error: {@code The Service "web" is invalid: ...} for
     * validation errors, {@code Error from server (NotFound): ...} for the rest.
     */
    public String kubectlMessage() {
        if ("Invalid".equals(status.getReason()) && status.getDetails() != null) {
            var details = status.getDetails();
            List<String> causes = new ArrayList<>();
            for (StatusCause c : details.getCauses()) {
                causes.add(c.getField() == null || c.getField().isEmpty() ? c.getMessage() : c.getField() + ": " + c.getMessage());
            }
            String name = details.getName() == null ? "" : details.getName();
            String head = "The " + details.getKind() + " " + GoValues.quote(name) + " is invalid";
            return causes.isEmpty() ? head : head + ": " + aggregate(causes);
        }
        if (status.getReason() == null || status.getReason().isEmpty()) {
            return "Error from server: " + status.getMessage();
        }
        return "Error from server (" + status.getReason() + "): " + status.getMessage();
    }
}
