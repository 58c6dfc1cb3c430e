package dev.portway.admin;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;

/** The Kubernetes {@code Status} bodies of errors the HTTP layer itself answers, in kube-apiserver's words. */
final class Statuses {

    private Statuses() {
    }

    static Status of(int code, String reason, String message) {
        return new StatusBuilder().withNewMetadata().endMetadata().withStatus("Failure").withMessage(message)
                .withReason(reason).withCode(code).build();
    }

    static Status unauthorized() {
        return of(401, "Unauthorized", "Unauthorized");
    }

    static Status forbidden(String message) {
        return of(403, "Forbidden", message);
    }

    static Status badRequest(String message) {
        return of(400, "BadRequest", message);
    }

    static Status notFound() {
        return of(404, "NotFound", "the server could not find the requested resource");
    }

    static Status tooLarge(long limit) {
        return of(413, "RequestEntityTooLarge", "Request entity too large: limit is " + limit);
    }

    static Status unsupportedMediaType(String type) {
        return of(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                + "application/json, application/yaml, application/vnd.kubernetes.protobuf");
    }

    static Status unsupportedPatch(String type) {
        return of(415, "UnsupportedMediaType", "the server does not support the patch type " + (type.isEmpty() ? "\"\"" : "\"" + type + "\"")
                + " - supported patch types include: application/json-patch+json, application/merge-patch+json, "
                + "application/strategic-merge-patch+json, application/apply-patch+yaml");
    }

    static Status notAcceptable() {
        return of(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml, "
                + "application/json;as=Table;v=v1;g=meta.k8s.io");
    }

    static Status gone(String message) {
        return of(410, "Expired", message);
    }

    static Status methodNotAllowed(String message) {
        return of(405, "MethodNotAllowed", message);
    }

    /**
     * A method a resource path does not route, as kube-apiserver answers it (its router's 405,
     * made a Status by {@code NewGenericServerResponse}; kubectl prints the message).
     */
    static Status methodNotAllowed() {
        Status s = of(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        s.setDetails(new io.fabric8.kubernetes.api.model.StatusDetailsBuilder()
                .addNewCause().withReason("UnexpectedServerResponse").withMessage("405: Method Not Allowed").endCause().build());
        return s;
    }

    static Status timeout(String message) {
        return of(504, "Timeout", message);
    }
}
