package io.driftagent.agent.host;

import java.util.ArrayList;
import java.util.List;

/**
 * The layer options of an overlay mount as the kernel shows them, before any path resolution.
 *
 * @param lowerDirs the lower layers, top first, as written (absolute, or relative to the mounter's directory)
 * @param dataDirs  data-only lower layers ({@code datadir+=}); not part of the merged namespace
 * @param upperDir  the upper layer, or null for a read-only overlay
 * @param workDir   the work dir, or null
 */
public record OverlayOptions(List<String> lowerDirs, List<String> dataDirs, String upperDir, String workDir) {
    public OverlayOptions {
        lowerDirs = List.copyOf(lowerDirs);
        dataDirs = List.copyOf(dataDirs);
    }

    /**
     * From unescaped super options. Handles the legacy {@code lowerdir=a:b} form (with {@code \:} and
     * {@code \\} escapes inside layer paths) and the new mount API's repeated {@code lowerdir+=} / {@code datadir+=}.
     */
    public static OverlayOptions fromSuperOptions(List<String> superOptions) {
        List<String> lowers = new ArrayList<>();
        List<String> data = new ArrayList<>();
        String upper = null;
        String work = null;
        for (String option : superOptions) {
            if (option.startsWith("lowerdir+=")) {
                lowers.add(option.substring("lowerdir+=".length()));
            } else if (option.startsWith("datadir+=")) {
                data.add(option.substring("datadir+=".length()));
            } else if (option.startsWith("lowerdir=")) {
                splitLegacyLowerdir(option.substring("lowerdir=".length()), lowers, data);
            } else if (option.startsWith("upperdir=")) {
                upper = option.substring("upperdir=".length());
            } else if (option.startsWith("workdir=")) {
                work = option.substring("workdir=".length());
            }
        }
        return new OverlayOptions(lowers, data, upper, work);
    }

    /** {@code a:b::c}: layers split on unescaped colons; after a double colon come data-only layers. */
    private static void splitLegacyLowerdir(String value, List<String> lowers, List<String> data) {
        StringBuilder current = new StringBuilder();
        boolean escaped = false;
        boolean inData = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (escaped) {
                current.append(c);
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == ':') {
                if (current.length() == 0) {
                    inData = true;
                } else {
                    (inData ? data : lowers).add(current.toString());
                    current.setLength(0);
                }
            } else {
                current.append(c);
            }
        }
        if (current.length() > 0) {
            (inData ? data : lowers).add(current.toString());
        }
    }
}
