package dev.portway.cli;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code portway ui}: the link to the live topology page, signed in. */
@Command(name = "ui", mixinStandardHelpOptions = true, description = {
        "Print the link to the live topology page, signed in with the kubeconfig's token.",
        "The page shows what each Service's addresses (LoadBalancer, NodePort, ClusterIP) send to, node and endpoint "
                + "health and open connections, read from the API server every two seconds. The token rides in the link's "
                + "fragment, which the browser never sends to a server; the page takes it off the address at once and keeps "
                + "it in its tab only. The API server's certificate is Portway's own: trust STATE_DIR/pki/ca.crt, or accept it "
                + "once in the browser."})
final class UiCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Override
    public Integer call() {
        Kubeconfig.Target target = Kubeconfig.resolve(server.kubeconfig, server.context, server.server);
        PrintWriter out = spec.commandLine().getOut();
        String base = target.server().replaceAll("/+$", "") + "/ui/";
        if (target.token() == null || target.token().isEmpty()) {
            out.println(base);
            spec.commandLine().getErr().println("note: the kubeconfig's user has no token (a client certificate?): "
                    + "the page asks for one; the token file of the state directory has it");
            return 0;
        }
        out.println(base + "#token=" + URLEncoder.encode(target.token(), StandardCharsets.UTF_8));
        return 0;
    }
}
