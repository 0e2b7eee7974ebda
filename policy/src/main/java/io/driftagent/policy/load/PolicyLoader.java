package io.driftagent.policy.load;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.model.DriftPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Loads, validates and compiles drift-policy files. Every problem is reported at once with a stable code and a
 * position; bad or hostile input never throws (size, encoding, nesting and aliases are bounded, see
 * {@link LoadLimits}). Stateless and thread-safe.
 */
public final class PolicyLoader {
    private final LoadLimits limits;

    public PolicyLoader() {
        this(LoadLimits.DEFAULT);
    }

    public PolicyLoader(LoadLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** Reads and loads a policy file; an unreadable, special or oversized file is reported as a problem. */
    public PolicyLoadResult load(Path file) {
        String name = file.toString();
        try {
            if (!Files.isRegularFile(file)) {
                return failed(Problem.of(ProblemCode.UNREADABLE, name, 1, 1, "",
                        Files.exists(file) ? "not a regular file" : "no such file"));
            }
            byte[] content;
            // read at most one byte beyond the limit: a huge file is never read whole
            try (InputStream in = Files.newInputStream(file)) {
                content = in.readNBytes(limits.maxBytes() + 1);
            }
            return load(name, content);
        } catch (IOException | SecurityException e) {
            return failed(Problem.of(ProblemCode.UNREADABLE, name, 1, 1, "", "cannot read the file: " + e.getMessage()));
        }
    }

    /** Loads a policy from bytes; {@code sourceName} is used in problem locations. */
    public PolicyLoadResult load(String sourceName, byte[] content) {
        Objects.requireNonNull(sourceName, "sourceName");
        Objects.requireNonNull(content, "content");
        if (content.length > limits.maxBytes()) {
            return failed(Problem.of(ProblemCode.TOO_LARGE, sourceName, 1, 1, "",
                    "the file is larger than " + limits.maxBytes() + " bytes"));
        }
        try {
            String text = decodeUtf8(sourceName, content);
            Optional<YamlNode> document = new YamlTreeReader(limits).read(sourceName, text);
            PolicyDocumentReader reader = new PolicyDocumentReader(sourceName);
            Optional<DriftPolicy> policy = reader.read(document);
            return new PolicyLoadResult(policy.map(CompiledPolicy::compile), reader.problems());
        } catch (YamlReadException e) {
            return failed(e.toProblem(sourceName));
        }
    }

    private static PolicyLoadResult failed(Problem problem) {
        return new PolicyLoadResult(Optional.empty(), List.of(problem));
    }

    /** Strict UTF-8 (a UTF-8 byte-order mark is skipped); the first malformed byte is reported with its position. */
    private static String decodeUtf8(String sourceName, byte[] content) throws YamlReadException {
        int start = 0;
        if (content.length >= 3 && (content[0] & 0xFF) == 0xEF && (content[1] & 0xFF) == 0xBB && (content[2] & 0xFF) == 0xBF) {
            start = 3;
        } else if (content.length >= 2 && (((content[0] & 0xFF) == 0xFE && (content[1] & 0xFF) == 0xFF)
                || ((content[0] & 0xFF) == 0xFF && (content[1] & 0xFF) == 0xFE))) {
            throw new YamlReadException(ProblemCode.NOT_UTF8, 1, 1, "the file is UTF-16; policies must be UTF-8");
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(content, start, content.length - start);
        CharBuffer out = CharBuffer.allocate(content.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int badOffset = in.position();
            out.flip();
            int[] position = YamlTreeReader.position(out.toString(), Integer.MAX_VALUE);
            throw new YamlReadException(ProblemCode.NOT_UTF8, position[0], position[1],
                    "the file is not valid UTF-8 (byte offset " + badOffset + ", value 0x"
                            + String.format("%02X", content[badOffset] & 0xFF) + ")");
        }
        out.flip();
        return out.toString();
    }
}
