package io.driftagent.reporter.bench;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.json.AlertJson;
import io.driftagent.reporter.json.JsonLinesSink;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Cost of turning one full alert into its JSON line, and of the line sink's write path (to a null stream). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AlertJsonBenchmark {

    private final AlertJson json = new AlertJson();
    private final Alert alert = SampleAlerts.full();
    private final JsonLinesSink sink = new JsonLinesSink("bench", OutputStream.nullOutputStream(), true);

    @Benchmark
    public byte[] serializeOneAlert() {
        return json.toLine(alert, 1);
    }

    @Benchmark
    public void jsonLinesSinkPublish() throws IOException {
        sink.publish(alert);
    }
}
