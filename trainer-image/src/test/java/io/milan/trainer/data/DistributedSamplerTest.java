package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DistributedSamplerTest {

    @Test
    void shardsCoverTheDataAndOnlyPaddingRepeats() {
        for (int world = 1; world <= 4; world++) {
            for (int n : new int[] {1, 2, 7, 10, 11, 12, 13, 100}) {
                for (boolean shuffle : new boolean[] {false, true}) {
                    int perRank = (n + world - 1) / world;
                    Map<Integer, Integer> counts = new HashMap<>();
                    for (int rank = 0; rank < world; rank++) {
                        int[] shard = DistributedSampler.indices(n, world, rank, 3, 0, shuffle, false);
                        assertEquals(perRank, shard.length, "n=" + n + " world=" + world);
                        for (int i : shard) {
                            counts.merge(i, 1, Integer::sum);
                        }
                    }
                    assertEquals(n, counts.size(), "every index is covered, n=" + n + " world=" + world);
                    int duplicates = counts.values().stream().mapToInt(c -> c - 1).sum();
                    assertEquals(perRank * world - n, duplicates, "only the padding repeats");
                }
            }
        }
    }

    @Test
    void shardsAreDisjointWhenTheSizeDivides() {
        for (int world = 1; world <= 4; world++) {
            int n = 12;
            List<Integer> all = new ArrayList<>();
            for (int rank = 0; rank < world; rank++) {
                Arrays.stream(DistributedSampler.indices(n, world, rank, 0, 5, true, false)).forEach(all::add);
            }
            assertEquals(n, all.size());
            assertEquals(n, all.stream().distinct().count());
        }
    }

    @Test
    void withoutShuffleRanksTakeEveryWorldSizeThIndexAndPadFromTheStart() {
        // torch: indices 0..9 padded to 12 with [0, 1], rank r takes positions r, r+4, r+8.
        assertArrayEquals(new int[] {0, 4, 8}, DistributedSampler.indices(10, 4, 0, 0, 0, false, false));
        assertArrayEquals(new int[] {1, 5, 9}, DistributedSampler.indices(10, 4, 1, 0, 0, false, false));
        assertArrayEquals(new int[] {2, 6, 0}, DistributedSampler.indices(10, 4, 2, 0, 0, false, false));
        assertArrayEquals(new int[] {3, 7, 1}, DistributedSampler.indices(10, 4, 3, 0, 0, false, false));
        // Padding longer than the data repeats it: n=1, world=3 → every rank gets index 0.
        assertArrayEquals(new int[] {0}, DistributedSampler.indices(1, 3, 2, 0, 0, false, false));
    }

    @Test
    void dropLastCutsTheTail() {
        assertArrayEquals(new int[] {0, 4}, DistributedSampler.indices(10, 4, 0, 0, 0, false, true));
        assertArrayEquals(new int[] {3, 7}, DistributedSampler.indices(10, 4, 3, 0, 0, false, true));
        assertEquals(2, DistributedSampler.samplesPerRank(11, 4, true));
        assertEquals(3, DistributedSampler.samplesPerRank(12, 4, true));
    }

    @Test
    void shuffleDependsOnSeedPlusEpochAndIsReproducible() {
        int[] a = DistributedSampler.indices(1000, 2, 1, 7, 0, true, false);
        assertArrayEquals(a, DistributedSampler.indices(1000, 2, 1, 7, 0, true, false));
        assertArrayEquals(a, DistributedSampler.indices(1000, 2, 1, 6, 1, true, false)); // seed + epoch
        assertFalse(Arrays.equals(a, DistributedSampler.indices(1000, 2, 1, 8, 0, true, false)));
    }

    @Test
    void badRankIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DistributedSampler.indices(10, 2, 2, 0, 0, false, false));
        assertEquals("rank must be in [0, world size 2), got 2", e.getMessage());
    }
}
