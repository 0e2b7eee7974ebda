package io.driftagent.agent.metadata.kubernetes;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Extracts the content digest from the image references that kubelets and runtimes report. */
public final class ImageDigests {
    private static final Pattern DIGEST = Pattern.compile("(?:^|@)(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$");

    private ImageDigests() {
    }

    /**
     * The digest in a kubelet {@code imageID}: {@code docker.io/library/nginx@sha256:<hex>} (containerd, CRI-O),
     * {@code docker-pullable://nginx@sha256:<hex>} (dockershim) or a bare {@code sha256:<hex>} (an image with no
     * repository digest, e.g. one imported locally: then it is the image config digest). Empty otherwise.
     */
    public static Optional<String> fromImageId(String imageId) {
        if (imageId == null || imageId.isEmpty()) {
            return Optional.empty();
        }
        Matcher matcher = DIGEST.matcher(imageId);
        return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
    }
}
