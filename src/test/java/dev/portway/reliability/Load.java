package dev.portway.reliability;

import dev.portway.testing.Net;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A steady load of HTTP GETs, each on a connection of its own (as {@code ab} without keep-alive),
 * from a few client threads, bounded in time and in count, that records what failed and which pod
 * answered when. Loopback only.
 */
final class Load implements AutoCloseable {

    /** What a run saw. */
    record Result(long ok, long failed, List<String> failures, Map<String, Long> lastAnswerNanos) {
        @Override
        public String toString() {
            return ok + " ok, " + failed + " failed" + (failures.isEmpty() ? "" : " (first: " + failures.subList(0, Math.min(5, failures.size())) + ")");
        }
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicLong> lastAnswer = new ConcurrentHashMap<>();
    private final CountDownLatch done;
    private final long deadline;

    /** Starts {@code clients} threads sending to {@code host:port} until stopped, {@code maxDuration} passes or {@code maxRequests} are sent. */
    Load(String host, int port, int clients, Duration maxDuration, long maxRequests) {
        this.done = new CountDownLatch(clients);
        this.deadline = System.nanoTime() + maxDuration.toNanos();
        AtomicLong sent = new AtomicLong();
        for (int i = 0; i < clients; i++) {
            Thread.ofPlatform().daemon().name("load-" + i).start(() -> {
                try {
                    while (!stop.get() && System.nanoTime() < deadline && sent.incrementAndGet() <= maxRequests) {
                        try {
                            Net.Response r = Net.get(host, port, "/");
                            if (r.status() == 200) {
                                ok.increment();
                                if (r.pod() != null) {
                                    lastAnswer.computeIfAbsent(r.pod(), k -> new AtomicLong()).set(System.nanoTime());
                                }
                            } else {
                                failed.increment();
                                failures.add("status " + r.status());
                            }
                        } catch (IOException e) {
                            failed.increment();
                            failures.add(e.toString());
                        }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
    }

    /** Requests answered so far. */
    long ok() {
        return ok.sum();
    }

    /** Stops the clients and returns what they saw. */
    Result stop() throws InterruptedException {
        stop.set(true);
        done.await();
        Map<String, Long> last = new java.util.HashMap<>();
        lastAnswer.forEach((pod, at) -> last.put(pod, at.get()));
        return new Result(ok.sum(), failed.sum(), List.copyOf(failures), last);
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
