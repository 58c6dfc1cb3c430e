package dev.portway.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Status;
import java.util.List;

/**
 * The answer to {@code POST /apis/portway.dev/v1/apply}: what each object became, or why the
 * whole apply was refused (then nothing was stored).
 *
 * @param applied the objects, in the order sent, when the apply succeeded
 * @param failed  the objects that could not be applied, when it did not
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ApplyResult(String apiVersion, String kind, List<Item> applied, List<Failure> failed, boolean dryRun) {

    public static final String API_VERSION = "portway.dev/v1";
    public static final String KIND = "ApplyResult";

    /** {@code service/web created}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Item(String apiVersion, String kind, String namespace, String name, String action) {
    }

    /** The object at {@code index} failed with {@code status}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Failure(int index, String kind, String namespace, String name, Status status) {
    }

    public static ApplyResult ok(List<Item> items, boolean dryRun) {
        return new ApplyResult(API_VERSION, KIND, items, List.of(), dryRun);
    }

    public static ApplyResult failed(List<Failure> failures) {
        return new ApplyResult(API_VERSION, KIND, List.of(), failures, false);
    }
}
