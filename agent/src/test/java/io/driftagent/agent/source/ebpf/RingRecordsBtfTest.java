package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.RecordHeader;
import io.driftagent.agent.library.MapRecordLayout;
import io.driftagent.agent.provenance.WriteRecordLayout;
import io.driftagent.agent.ring.RecordHeadLayout;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java layouts of the ring's records against the compiled BPF object itself (its BTF, as {@code bpftool btf dump
 * file} prints it), not against the header macros the C structs are checked by: the offset of every member of
 * {@code struct record_head}, {@code exec_record}, {@code map_record} and {@code write_record} is the Java constant of
 * that name, and each record starts with the one head. Needs only the built object and bpftool (the build's tools,
 * scripts/host-setup.sh), no root.
 */
class RingRecordsBtfTest {
    private static final Pattern STRUCT = Pattern.compile("^\\[(\\d+)] STRUCT '(\\w+)' size=(\\d+) vlen=\\d+$");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'(\\w+)' type_id=(\\d+) bits_offset=(\\d+)$");

    private static Map<String, Struct> structs;

    /** One struct of the object's BTF: its type id, size and members' byte offsets (and type ids), in order. */
    private record Struct(int id, int size, Map<String, Integer> offsets, Map<String, Integer> types) {
    }

    @BeforeAll
    static void readTheCompiledObjectsBtf() throws Exception {
        URL object = RingRecordsBtfTest.class.getResource(EbpfPrerequisites.OBJECT_RESOURCE);
        assertThat(object).as("the built BPF object on the classpath (mvn package builds it)").isNotNull();
        Path bpftool = Path.of("/usr/sbin/bpftool");
        assertThat(Files.isExecutable(bpftool)).as("bpftool (scripts/host-setup.sh installs it)").isTrue();
        String dump = HostCommands.run(bpftool.toString(), "btf", "dump", "file", Path.of(object.toURI()).toString());
        structs = parse(dump);
    }

    @Test
    void theRecordHeadsMembersAreWhereRecordHeadLayoutSaysAndNoneIsMissing() throws Exception {
        // given the compiled struct record_head
        Struct head = structs.get("record_head");
        assertThat(head).as("struct record_head in the object's BTF").isNotNull();

        // then each member is at the Java constant of its name, one for one, and the head is HEAD_SIZE bytes
        Map<String, Long> java = RecordHeader.intConstantsOf(RecordHeadLayout.class);
        Map<String, Long> btf = new LinkedHashMap<>();
        head.offsets().forEach((member, offset) -> btf.put("HEAD_OFF_" + member.toUpperCase(Locale.ROOT),
                (long) offset));
        btf.put("HEAD_SIZE", (long) head.size());
        assertThat(java).isEqualTo(btf);
    }

    @Test
    void theExecRecordStartsWithTheHeadAndItsOwnMembersAreWhereExecRecordLayoutSays() throws Exception {
        assertRecordMatches("exec_record", ExecRecordLayout.class);
    }

    @Test
    void theMappingRecordStartsWithTheHeadAndItsOwnMembersAreWhereMapRecordLayoutSays() throws Exception {
        assertRecordMatches("map_record", MapRecordLayout.class);
    }

    @Test
    void theWriteRecordStartsWithTheHeadAndItsOwnMembersAreWhereWriteRecordLayoutSays() throws Exception {
        assertRecordMatches("write_record", WriteRecordLayout.class);
    }

    private static void assertRecordMatches(String name, Class<?> layout) throws Exception {
        // given the compiled record struct
        Struct record = structs.get(name);
        assertThat(record).as("struct %s in the object's BTF", name).isNotNull();

        // then its first member is the one record head, at 0
        assertThat(record.offsets().keySet().iterator().next()).isEqualTo("head");
        assertThat(record.offsets().get("head")).isZero();
        assertThat(record.types().get("head")).isEqualTo(structs.get("record_head").id());

        // and every other member is at the Java constant of its name (data: the header size), one for one
        Map<String, Long> expected = new LinkedHashMap<>();
        record.offsets().forEach((member, offset) -> {
            if (!member.equals("head")) {
                expected.put(member.equals("data") ? "REC_HDR_SIZE" : "REC_OFF_" + member.toUpperCase(Locale.ROOT),
                        (long) offset);
            }
        });
        Map<String, Long> java = new LinkedHashMap<>();
        RecordHeader.intConstantsOf(layout).forEach((constant, value) -> {
            if (constant.startsWith("REC_OFF_") || constant.equals("REC_HDR_SIZE")) {
                java.put(constant, value);
            }
        });
        assertThat(java).isEqualTo(expected);
        assertThat(record.offsets().values().stream().filter(o -> o > 0).mapToInt(Integer::intValue).min())
                .as("the record's own members start where the head ends").hasValue(RecordHeadLayout.HEAD_SIZE);
    }

    /** The STRUCTs of {@code bpftool btf dump file} (raw format), by name. */
    private static Map<String, Struct> parse(String dump) {
        Map<String, Struct> parsed = new LinkedHashMap<>();
        String name = null;
        int id = 0;
        int size = 0;
        Map<String, Integer> offsets = null;
        Map<String, Integer> types = null;
        for (String line : dump.split("\n")) {
            Matcher s = STRUCT.matcher(line);
            Matcher m = MEMBER.matcher(line);
            if (s.matches()) {
                if (name != null) {
                    parsed.put(name, new Struct(id, size, offsets, types));
                }
                id = Integer.parseInt(s.group(1));
                name = s.group(2);
                size = Integer.parseInt(s.group(3));
                offsets = new LinkedHashMap<>();
                types = new LinkedHashMap<>();
            } else if (m.matches() && name != null) {
                int bits = Integer.parseInt(m.group(3));
                assertThat(bits % 8).as("%s.%s is no bit field", name, m.group(1)).isZero();
                offsets.put(m.group(1), bits / 8);
                types.put(m.group(1), Integer.parseInt(m.group(2)));
            } else if (!line.startsWith("\t") && name != null) {
                parsed.put(name, new Struct(id, size, offsets, types));
                name = null;
            }
        }
        if (name != null) {
            parsed.put(name, new Struct(id, size, offsets, types));
        }
        return parsed;
    }
}
