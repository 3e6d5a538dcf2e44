package dev.pinhole.cli.transfer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What a completed session moved.
 *
 * @param files the files both sides verified, in order
 * @param bytes total size of those files
 * @param bytesOnWire file bytes that went over the stream (less than bytes when resumed)
 * @param sha256 hex SHA-256 of the one file, or for several files of their manifest
 *     ({@code "<sha256 hex>  <path>\n"} per file, as sha256sum prints it)
 */
public record TransferSummary(List<FileResult> files, long bytes, long bytesOnWire, String sha256) {
    /** One verified file. */
    public record FileResult(String path, long size, long resumedFrom, String sha256) {
    }

    static TransferSummary of(List<FileResult> files, long bytesOnWire) {
        long total = 0;
        for (FileResult f : files) {
            total += f.size();
        }
        String hash;
        if (files.size() == 1) {
            hash = files.get(0).sha256();
        } else {
            var digest = Digests.sha256();
            for (FileResult f : files) {
                digest.update((f.sha256() + "  " + f.path() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            hash = Wire.hex(digest.digest());
        }
        return new TransferSummary(List.copyOf(files), total, bytesOnWire, hash);
    }
}
