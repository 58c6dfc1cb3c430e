package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import dev.portway.testing.PortwayProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./portway up} refuses the JVM's attach mechanism. Pods run as the same user and see
 * /tmp, where the JVM opens its attach socket the first time a tool (jcmd, jstack, JFR, a
 * profiler) attaches: from then on any pod could connect to it, past its PID namespace, and have
 * the JVM dump its heap, the admin token in it, or load an agent of the pod's. The launcher turns
 * the mechanism off for {@code up}; {@code PORTWAY_JAVA_OPTS=-XX:-DisableAttachMechanism} turns it
 * back on.
 */
class AttachRefusedIT {

    @Test
    void noToolCanAttachToPortwayUp(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("web.yaml");
        Files.writeString(manifest, """
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports: [{port: 8080}]
                """);
        try (PortwayProcess up = PortwayProcess.up(dir.resolve("state"), manifest)) {
            String pid = Long.toString(up.process().pid());
            // what jcmd does: ask for the attach socket (SIGQUIT with a marker file), then wait for it
            System.setProperty("sun.tools.attach.attachTimeout", "3000");
            assertThatThrownBy(() -> VirtualMachine.attach(pid).detach())
                    .isInstanceOfAny(AttachNotSupportedException.class, IOException.class);
            assertThat(Path.of("/tmp/.java_pid" + pid)).as("the attach socket, which pods would see").doesNotExist();
            assertThat(up.process().isAlive()).isTrue();
        }
    }
}
