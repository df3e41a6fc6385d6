package io.milan.trainer.checkpoint.torchfile;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The bytes of one pickle, read forward with a budget: every length taken from the file is checked against the
 * bytes that are left (to the end of the file and to {@link PickleLimits#maxPickleBytes}) before a buffer of
 * that size exists.
 */
final class PickleInput {
    private final InputStream in;
    private final long start;
    private long left;
    private long read;

    /**
     * @param in     positioned at the pickle's first byte
     * @param start  that position in the file (for messages)
     * @param budget the most bytes this pickle may take
     */
    PickleInput(InputStream in, long start, long budget) {
        this.in = in;
        this.start = start;
        this.left = budget;
    }

    /** File position of the next byte. */
    long position() {
        return start + read;
    }

    int readByte() throws IOException {
        if (left <= 0) {
            throw new EOFException("the pickle runs past its end (truncated file, or past the size limit)");
        }
        int b = in.read();
        if (b < 0) {
            throw new EOFException("unexpected end of file inside the pickle (truncated)");
        }
        left--;
        read++;
        return b;
    }

    byte[] readBytes(long n) throws IOException {
        if (n < 0 || n > left) {
            throw new EOFException("a length of " + n + " bytes runs past the end of the pickle ("
                    + left + " bytes left): truncated or corrupt");
        }
        byte[] bytes = in.readNBytes((int) n);
        if (bytes.length != n) {
            throw new EOFException("unexpected end of file inside the pickle (truncated)");
        }
        left -= n;
        read += n;
        return bytes;
    }

    /** A little-endian unsigned integer of {@code n} bytes (1, 2, 4 or 8; 8 must fit in a long). */
    long readUnsigned(int n) throws IOException {
        byte[] b = readBytes(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    /** A line of text opcodes (without its newline), at most {@code max} bytes. */
    String readLine(int max) throws IOException {
        StringBuilder s = new StringBuilder();
        while (true) {
            int b = readByte();
            if (b == '\n') {
                return s.toString();
            }
            if (s.length() >= max) {
                throw new IOException("a text line of more than " + max + " bytes");
            }
            s.append((char) b);
        }
    }
}
