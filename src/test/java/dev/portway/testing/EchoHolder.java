package dev.portway.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A TCP echo server for many connections in a process of its own ({@code java -cp target/test-classes
 * dev.portway.testing.EchoHolder HOST PORT}): one thread, one selector, every connection held until
 * its client closes it. Tests that hold thousands of connections run it apart from their own JVM,
 * whose descriptors the clients need. It prints {@code listening} once bound, and exits when its
 * standard input closes (when the test that started it ends, even by a crash).
 */
public final class EchoHolder {

    private EchoHolder() {
    }

    public static void main(String[] args) throws IOException {
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent's end of the pipe: EOF when it is gone
                }
            } catch (IOException ignored) {
                // the same
            }
            System.exit(0);
        });
        try (Selector selector = Selector.open(); ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("listening");
            System.out.flush();
            ByteBuffer buffer = ByteBuffer.allocateDirect(16 * 1024);
            while (true) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isAcceptable()) {
                        for (SocketChannel c = server.accept(); c != null; c = server.accept()) {
                            c.configureBlocking(false);
                            c.register(selector, SelectionKey.OP_READ);
                        }
                    } else if (key.isReadable()) {
                        echo((SocketChannel) key.channel(), buffer);
                    }
                }
                selector.selectedKeys().clear();
            }
        }
    }

    private static void echo(SocketChannel c, ByteBuffer buffer) {
        try {
            buffer.clear();
            if (c.read(buffer) < 0) {
                c.close();
                return;
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                c.write(buffer); // small messages: the socket buffer takes them
            }
        } catch (IOException e) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closed either way
            }
        }
    }
}
