package io.driftagent.agent.image;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Hashes everything read through it, refuses to read past {@code maxBytes}, and at end of stream fails unless the
 * bytes hash to the expected "sha256:hex" digest. Callers drain it to the end so the check always runs.
 */
final class DigestVerifyingInputStream extends FilterInputStream {

    private final MessageDigest sha;
    private final String expectedHex;
    private final long maxBytes;
    private long count;
    private boolean verified;

    DigestVerifyingInputStream(InputStream in, String digest, long maxBytes) throws IOException {
        super(in);
        if (!digest.startsWith("sha256:") || !digest.substring(7).matches("[0-9a-f]{64}")) {
            throw new IOException("unsupported or malformed digest: " + digest);
        }
        this.expectedHex = digest.substring(7);
        this.maxBytes = maxBytes;
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
            verify();
            return n;
        }
        count += n;
        if (count > maxBytes) {
            throw new IOException("blob larger than " + maxBytes + " bytes");
        }
        sha.update(b, off, n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Reads to the end (verifying the digest). */
    void drain() throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (read(buffer, 0, buffer.length) >= 0) {
            // hashing happens in read
        }
    }

    private void verify() throws IOException {
        if (verified) {
            return;
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(expectedHex)) {
            throw new IOException("digest mismatch: expected sha256:" + expectedHex + ", got sha256:" + actual);
        }
        verified = true;
    }
}
