package dev.portway.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Where the admin API reaches into pods: runs commands in containers ({@code pods/NAME/exec}, what
 * {@code kubectl exec} asks for), attaches to them ({@code pods/NAME/attach}) and connects to their
 * ports ({@code pods/NAME/portforward}): the local kubelet.
 */
public interface PodExec {

    /**
     * The container a command would run in, as kube-apiserver finds it ({@code ExecLocation}) and
     * the kubelet then does: the pod, the container (the only one when none is named), a node, and
     * a running container. Called off the event loop.
     *
     * @param container the container's name, or null or empty when the pod has just one
     * @throws dev.portway.api.ApiException with the API server's status when there is no such running container
     */
    Target find(String namespace, String pod, String container);

    /**
     * The running container {@code kubectl attach} (and {@code kubectl run -it}) reads and writes,
     * found as {@link #find} finds one; its target runs nothing: a session of it reads what the
     * container writes from now on and writes its input. Called off the event loop.
     */
    Target attach(String namespace, String pod, String container);

    /**
     * The pod {@code kubectl port-forward} connects to, as kube-apiserver finds it
     * ({@code PortForwardLocation}: the pod, a node) and then the kubelet (a pod it runs, with an
     * address). Called off the event loop.
     *
     * @throws dev.portway.api.ApiException with the API server's status when there is no such pod
     */
    Forward forward(String namespace, String pod);

    /** A running pod: where its ports are reached, and its UID (for the kubelet's messages). */
    record Forward(java.net.InetAddress address, String uid) {
    }

    /** A running container, found. */
    interface Target {

        /**
         * Starts {@code command} in the container: with its environment, in its working directory and
         * its sandbox, as a container's own process.
         *
         * @param stdin whether the command reads what the client sends (otherwise its input is empty)
         * @param tty   whether it gets a terminal (its output is then one stream, on {@link Session#stdout})
         * @throws IOException with the reason, as a runtime's exec fails (no such executable, Portway stopping)
         */
        Session start(List<String> command, boolean stdin, boolean tty) throws IOException;
    }

    /** A command running in a container. */
    interface Session {

        OutputStream stdin();

        InputStream stdout();

        /** Its error output, or null when it has a terminal (the terminal carries both). */
        InputStream stderr();

        /** Waits for it to exit: its status, 128 + the signal's number for one a signal ended. */
        int waitFor() throws InterruptedException;

        /** Ends it and whatever it started, at once (the client has gone). */
        void kill();

        /** The client's terminal has this size now (with a terminal; ignored otherwise). */
        void resize(int columns, int rows);
    }
}
