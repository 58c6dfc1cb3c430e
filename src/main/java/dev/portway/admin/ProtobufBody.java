package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import io.kubernetes.client.proto.Runtime;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.proto.V1Apps;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Request bodies in Kubernetes' protobuf encoding ({@code application/vnd.kubernetes.protobuf}),
 * which kubectl's typed clients send ({@code kubectl create configmap|secret|namespace|deployment|service}),
 * turned into the JSON the rest of the API server reads. The envelope is the API server's:
 * the magic {@code k8s\0}, then a {@code runtime.Unknown} holding the type and the object's bytes;
 * the messages are those the Kubernetes Java client generates from the API's {@code .proto} files.
 * Field names there are the JSON names; the few types whose JSON form differs (IntOrString,
 * Quantity, Time, RawExtension, bytes) are converted as the Go types marshal them. Answers are
 * always JSON, which every client accepts.
 *
 * <p>One approximation: Go writes a struct's value fields to protobuf even when they are empty,
 * and the API server's JSON then leaves out the empty ones ({@code omitempty}); here an empty
 * string, {@code false} and a zero time are left out the same way. Numbers are kept, zero or not,
 * since a zero there can be meant ({@code replicas: 0}).
 */
final class ProtobufBody {

    static final String CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
    private static final byte[] MAGIC = {'k', '8', 's', 0};
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter RFC3339_MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** The messages of the kinds Portway serves that have a protobuf form ({@code apiVersion/kind}). */
    private static final Map<String, Parser<? extends Message>> PARSERS = Map.ofEntries(
            Map.entry("v1/Namespace", V1.Namespace.parser()),
            Map.entry("v1/Node", V1.Node.parser()),
            Map.entry("v1/Service", V1.Service.parser()),
            Map.entry("v1/Pod", V1.Pod.parser()),
            Map.entry("v1/ConfigMap", V1.ConfigMap.parser()),
            Map.entry("v1/Secret", V1.Secret.parser()),
            Map.entry("v1/Event", V1.Event.parser()),
            Map.entry("apps/v1/Deployment", V1Apps.Deployment.parser()),
            Map.entry("apps/v1/ReplicaSet", V1Apps.ReplicaSet.parser()),
            // the bodies of a typed client's DELETE (kubectl drain's, for one) and of an eviction
            Map.entry("v1/DeleteOptions", io.kubernetes.client.proto.Meta.DeleteOptions.parser()),
            Map.entry("meta.k8s.io/v1/DeleteOptions", io.kubernetes.client.proto.Meta.DeleteOptions.parser()),
            Map.entry("policy/v1/Eviction", io.kubernetes.client.proto.V1Policy.Eviction.parser()));

    private ProtobufBody() {
    }

    /** The body as a JSON object with its apiVersion and kind. */
    static JsonNode toJson(byte[] body) {
        if (body.length < MAGIC.length || !java.util.Arrays.equals(body, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw ApiException.badRequest("the protobuf body does not start with the Kubernetes envelope");
        }
        try {
            Runtime.Unknown unknown = Runtime.Unknown.parseFrom(ByteString.copyFrom(body, MAGIC.length, body.length - MAGIC.length));
            String apiVersion = unknown.getTypeMeta().getApiVersion();
            String kind = unknown.getTypeMeta().getKind();
            Parser<? extends Message> parser = PARSERS.get(apiVersion + "/" + kind);
            if (parser == null) {
                throw new ApiException(Statuses.unsupportedMediaType(CONTENT_TYPE));
            }
            ObjectNode object = NODES.objectNode();
            object.put("apiVersion", apiVersion);
            object.put("kind", kind);
            object.setAll(message(parser.parseFrom(unknown.getRaw())));
            return object;
        } catch (InvalidProtocolBufferException e) {
            throw ApiException.badRequest("the protobuf body cannot be decoded: " + e.getMessage());
        }
    }

    private static ObjectNode message(Message m) {
        ObjectNode out = NODES.objectNode();
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (!f.isRepeated() && isEmpty(e.getValue())) {
                continue;
            }
            if (f.isMapField()) {
                ObjectNode map = out.putObject(f.getName());
                for (Object entry : (List<?>) e.getValue()) {
                    Message kv = (Message) entry;
                    FieldDescriptor keyField = kv.getDescriptorForType().findFieldByName("key");
                    FieldDescriptor valueField = kv.getDescriptorForType().findFieldByName("value");
                    map.set(String.valueOf(kv.getField(keyField)), value(valueField, kv.getField(valueField)));
                }
            } else if (f.isRepeated()) {
                ArrayNode list = out.putArray(f.getName());
                for (Object v : (List<?>) e.getValue()) {
                    list.add(value(f, v));
                }
            } else {
                out.set(f.getName(), value(f, e.getValue()));
            }
        }
        return out;
    }

    private static boolean isEmpty(Object v) {
        if (v instanceof String s) {
            return s.isEmpty();
        }
        if (v instanceof Boolean b) {
            return !b;
        }
        if (v instanceof Message m) {
            String type = m.getDescriptorForType().getFullName();
            return (type.endsWith(".meta.v1.Time") || type.endsWith(".meta.v1.MicroTime")) && ((Number) field(m, "seconds", 0L)).longValue() == 0;
        }
        return false;
    }

    private static JsonNode value(FieldDescriptor f, Object v) {
        return switch (f.getJavaType()) {
            case STRING -> NODES.textNode((String) v);
            case INT -> NODES.numberNode((Integer) v);
            case LONG -> NODES.numberNode((Long) v);
            case BOOLEAN -> NODES.booleanNode((Boolean) v);
            case DOUBLE -> NODES.numberNode((Double) v);
            case FLOAT -> NODES.numberNode((Float) v);
            case BYTE_STRING -> NODES.textNode(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()));
            case ENUM -> NODES.textNode(v.toString());
            case MESSAGE -> special((Message) v);
        };
    }

    /** Types whose JSON form is not their message's fields, as their Go types marshal them. */
    private static JsonNode special(Message m) {
        String type = m.getDescriptorForType().getFullName();
        switch (type) {
            case "k8s.io.apimachinery.pkg.util.intstr.IntOrString" -> {
                long t = (Long) field(m, "type", 0L);
                return t == 0 ? NODES.numberNode((Integer) field(m, "intVal", 0)) : NODES.textNode((String) field(m, "strVal", ""));
            }
            case "k8s.io.apimachinery.pkg.api.resource.Quantity" -> {
                return NODES.textNode((String) field(m, "string", "0"));
            }
            case "k8s.io.apimachinery.pkg.apis.meta.v1.Time" -> {
                return NODES.textNode(RFC3339.format(Instant.ofEpochSecond((Long) field(m, "seconds", 0L))));
            }
            case "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime" -> {
                Instant t = Instant.ofEpochSecond((Long) field(m, "seconds", 0L), ((Integer) field(m, "nanos", 0)).longValue());
                return NODES.textNode(RFC3339_MICRO.format(t));
            }
            case "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1" -> {
                ByteString raw = (ByteString) field(m, "raw", ByteString.EMPTY);
                return raw.isEmpty() ? NODES.nullNode() : Json.readTree(raw.toByteArray());
            }
            default -> {
                return message(m);
            }
        }
    }

    private static Object field(Message m, String name, Object otherwise) {
        FieldDescriptor f = m.getDescriptorForType().findFieldByName(name);
        if (f == null) {
            return otherwise;
        }
        Object v = m.getField(f);
        if (v instanceof Number n && otherwise instanceof Long) {
            return n.longValue();
        }
        if (v instanceof Number n && otherwise instanceof Integer) {
            return n.intValue();
        }
        return v == null ? otherwise : v;
    }
}
