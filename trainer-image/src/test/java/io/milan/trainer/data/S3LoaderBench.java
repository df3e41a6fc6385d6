package io.milan.trainer.data;

import io.milan.trainer.data.shards.S3ShardSource;
import io.milan.trainer.data.shards.ShardUpload;
import io.milan.trainer.data.shards.ShardWriter;
import io.milan.trainer.data.shards.ShardedDataset;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints the pretraining data pipeline's throughput (decode + RandomResizedCrop + flip + normalise) over the same
 * synthetic 500×375 JPEGs as {@link LoaderBenchmark}: an ImageFolder on local disk, its shards on local disk, and
 * the same shards streamed from a local MinIO server, with the server's CPU time counted beside the loader's. A
 * benchmark, not a test: it asserts nothing about rates. Run with
 * {@code -Dtest=S3LoaderBench -Dmilan.bench=true} (optionally {@code -Dmilan.bench.images=512}).
 */
@EnabledIfSystemProperty(named = "milan.bench", matches = "true")
class S3LoaderBench {

    @Test
    void imageFolderFromDiskAgainstShardsFromTheServer(@TempDir Path dir) throws Exception {
        int images = Integer.getInteger("milan.bench.images", 512);
        String shardSize = "8MB";
        LoaderBenchmark.writeJpegs(dir.resolve("folder"), images);
        ImageFolder folder = ImageFolder.scan(dir.resolve("folder"));
        ShardWriter.write(folder, dir.resolve("shards"), ShardWriter.ShardSize.parse(shardSize), 0);
        try (MinioServer server = MinioServer.start(dir.resolve("minio"));
                ObjectStore objects = new ObjectStore(server.config())) {
            server.createBucket("bench");
            S3Location prefix = new S3Location("bench", "synthetic/train");
            int shards = new ShardUpload(objects, prefix).write(folder, ShardWriter.ShardSize.parse(shardSize), 0)
                    .shards().size();
            System.out.printf(Locale.ROOT, "%d synthetic 500x375 JPEGs, %d shards of <= %s; output 224x224,"
                    + " 1 worker, %d cores%n", folder.size(), shards, shardSize,
                    Runtime.getRuntime().availableProcessors());
            LoaderBenchmark.measure(folder, "imagefolder (local disk)", 224, 1, () -> 0);
            LoaderBenchmark.measure(ShardedDataset.open(dir.resolve("shards")), "shards (local disk)", 224, 1,
                    () -> 0);
            LoaderBenchmark.measure(ShardedDataset.open(new S3ShardSource(objects, prefix)), "shards (MinIO)", 224,
                    1, server::cpuNanos);
        }
    }
}
