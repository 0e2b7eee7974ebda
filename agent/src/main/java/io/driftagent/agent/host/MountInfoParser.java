package io.driftagent.agent.host;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Parses the text of {@code /proc/<pid>/mountinfo} (proc(5)). Pure: no I/O. Malformed lines are skipped. */
public final class MountInfoParser {

    public List<MountInfoEntry> parse(String text) {
        List<MountInfoEntry> entries = new ArrayList<>();
        for (String line : text.split("\n")) {
            MountInfoEntry entry = parseLine(line);
            if (entry != null) {
                entries.add(entry);
            }
        }
        return entries;
    }

    /** One line, or null when it is not a well-formed mountinfo line. */
    public MountInfoEntry parseLine(String line) {
        String[] fields = line.trim().split(" ");
        int separator = -1;
        for (int i = 6; i < fields.length; i++) {
            if (fields[i].equals("-")) {
                separator = i;
                break;
            }
        }
        if (fields.length < 10 || separator < 0 || fields.length < separator + 3) {
            return null;
        }
        try {
            int mountId = Integer.parseInt(fields[0]);
            int parentId = Integer.parseInt(fields[1]);
            int colon = fields[2].indexOf(':');
            long dev = DeviceNumber.makedev(Integer.parseInt(fields[2].substring(0, colon)),
                    Integer.parseInt(fields[2].substring(colon + 1)));
            List<String> tags = new ArrayList<>();
            for (int i = 6; i < separator; i++) {
                tags.add(fields[i]);
            }
            List<String> superOptions = new ArrayList<>();
            if (fields.length > separator + 3) {
                for (String option : fields[separator + 3].split(",")) {
                    superOptions.add(unescape(option));
                }
            }
            return new MountInfoEntry(mountId, parentId, dev, unescape(fields[3]), unescape(fields[4]), tags,
                    unescape(fields[separator + 1]), unescape(fields[separator + 2]), superOptions);
        } catch (NumberFormatException | StringIndexOutOfBoundsException malformed) {
            return null;
        }
    }


    /** Undoes the kernel's {@code \\ooo} octal escapes (space, tab, newline, backslash, comma, and raw bytes). */
    public static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        ByteArrayOutputStream raw = new ByteArrayOutputStream(field.length());
        int i = 0;
        while (i < field.length()) {
            int codePoint = field.codePointAt(i);
            if (codePoint == '\\' && isOctal(field, i + 1)) {
                raw.write(Integer.parseInt(field, i + 1, i + 4, 8));
                i += 4;
            } else {
                byte[] encoded = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
                raw.write(encoded, 0, encoded.length);
                i += Character.charCount(codePoint);
            }
        }
        return raw.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
