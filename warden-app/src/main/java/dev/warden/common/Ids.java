package dev.warden.common;

import java.security.SecureRandom;

/** Time-ordered identifiers (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32). */
public final class Ids {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {}

    /** {@code job-} and a ULID of {@code millis}, the enqueue time: ids sort by it (job listings rely on that). */
    public static String newJobId(long millis) {
        return "job-" + ulid(millis);
    }

    public static String ulid(long millis) {
        byte[] rnd = new byte[10];
        RANDOM.nextBytes(rnd);
        char[] out = new char[26];
        long time = millis;
        for (int i = 9; i >= 0; i--) {
            out[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        // 80 random bits -> 16 chars
        long hi = ((rnd[0] & 0xffL) << 32) | ((rnd[1] & 0xffL) << 24) | ((rnd[2] & 0xffL) << 16)
                | ((rnd[3] & 0xffL) << 8) | (rnd[4] & 0xffL);
        long lo = ((rnd[5] & 0xffL) << 32) | ((rnd[6] & 0xffL) << 24) | ((rnd[7] & 0xffL) << 16)
                | ((rnd[8] & 0xffL) << 8) | (rnd[9] & 0xffL);
        for (int i = 17; i >= 10; i--) {
            out[i] = ALPHABET[(int) (hi & 31)];
            hi >>>= 5;
        }
        for (int i = 25; i >= 18; i--) {
            out[i] = ALPHABET[(int) (lo & 31)];
            lo >>>= 5;
        }
        return new String(out);
    }

    public static String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    public static String sha256Hex(byte[] data) {
        return HEX.formatHex(SHA256.get().digest(data));
    }

    /**
     * A digest per thread: looking one up ({@code MessageDigest.getInstance}) cost as much as
     * hashing a ledger entry; {@code digest} leaves it reset for the next use.
     */
    private static final ThreadLocal<java.security.MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private static final java.util.HexFormat HEX = java.util.HexFormat.of();

    public static String sha256Hex(String text) {
        return sha256Hex(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
