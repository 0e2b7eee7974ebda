package io.driftagent.reporter.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The webhook's request signature: {@code X-Drift-Signature: sha256=<hex>} where hex is
 * HMAC-SHA256(secret, "<X-Drift-Timestamp>" + "." + body bytes). The timestamp (Unix seconds) is inside the MAC, so a
 * receiver that rejects timestamps older than a few minutes cannot be fed replays.
 */
public final class WebhookSignature {

    public static final String SIGNATURE_HEADER = "X-Drift-Signature";
    public static final String TIMESTAMP_HEADER = "X-Drift-Timestamp";
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    public WebhookSignature(byte[] secret) {
        this.key = new SecretKeySpec(secret, ALGORITHM);
    }

    /** The header value for {@code body} sent at {@code epochSecond}. */
    public String sign(long epochSecond, byte[] body) {
        Mac mac = newMac();
        mac.update(Long.toString(epochSecond).getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) '.');
        mac.update(body);
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal());
    }

    /** What a receiver does: recompute and compare in constant time. */
    public boolean verify(String timestampHeader, byte[] body, String signatureHeader) {
        long epochSecond;
        try {
            epochSecond = Long.parseLong(timestampHeader);
        } catch (NumberFormatException e) {
            return false;
        }
        byte[] expected = sign(epochSecond, body).getBytes(StandardCharsets.US_ASCII);
        byte[] actual = signatureHeader == null ? new byte[0] : signatureHeader.getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, actual);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java SE runtime", e);
        }
    }
}
