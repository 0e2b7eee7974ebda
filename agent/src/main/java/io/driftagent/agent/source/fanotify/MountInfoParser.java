package io.driftagent.agent.source.fanotify;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Extracts overlay mounts from mountinfo text (proc(5) format; octal escapes undone). */
final class MountInfoParser {

    private MountInfoParser() {
    }

    static List<OverlayMount> overlays(String mountinfo) {
        List<OverlayMount> out = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            int sep = line.indexOf(" - ");
            if (sep < 0) {
                continue;
            }
            String[] pre = line.substring(0, sep).split(" ");
            String[] post = line.substring(sep + 3).split(" ");
            if (pre.length < 5 || post.length < 3 || !post[0].equals("overlay")) {
                continue;
            }
            String[] mm = pre[2].split(":");
            long dev = Native.makedev(Long.parseLong(mm[0]), Long.parseLong(mm[1]));
            List<Path> lowers = new ArrayList<>();
            Path upper = null;
            for (String opt : post[2].split(",")) {
                if (opt.startsWith("lowerdir=")) {
                    for (String l : splitUnescapedColons(opt.substring("lowerdir=".length()))) {
                        lowers.add(Path.of(unescape(l)));
                    }
                } else if (opt.startsWith("lowerdir+=")) {
                    lowers.add(Path.of(unescape(opt.substring("lowerdir+=".length()))));
                } else if (opt.startsWith("upperdir=")) {
                    upper = Path.of(unescape(opt.substring("upperdir=".length())));
                }
            }
            out.add(new OverlayMount(dev, unescape(pre[4]), lowers, upper));
        }
        return out;
    }

    private static List<String> splitUnescapedColons(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && s.charAt(i + 1) == ':') {
                cur.append(':');
                i++;
            } else if (c == ':') {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            parts.add(cur.toString());
        }
        return parts;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() + 0 && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
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
