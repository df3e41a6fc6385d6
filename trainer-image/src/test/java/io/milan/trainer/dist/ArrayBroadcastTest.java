package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rank 0's weights and optimizer state (named arrays of several dtypes) reach every rank, in place. */
class ArrayBroadcastTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void everyRankEndsWithRankZerosArrays() {
        int world = 3;
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Map<String, NDArray>> perRank = new ArrayList<>();
            for (int rank = 0; rank < world; rank++) {
                perRank.add(arrays(manager, rank, new Shape(30, 40)));
            }
            ThreadRanks.run(world, 256, TIMEOUT, group -> {
                ArrayBroadcast.fromPrimary(group, perRank.get(group.rank()));
                return null;
            });
            for (int rank = 1; rank < world; rank++) {
                Map<String, NDArray> mine = perRank.get(rank);
                Map<String, NDArray> primary = perRank.get(0);
                assertArrayEquals(primary.get("weight").toFloatArray(), mine.get("weight").toFloatArray());
                assertArrayEquals(primary.get("step").toLongArray(), mine.get("step").toLongArray());
                assertArrayEquals(primary.get("mask").toBooleanArray(), mine.get("mask").toBooleanArray());
                assertTrue(mine.get("weight").hasGradient(), "still a trainable parameter after the in-place copy");
            }
        }
    }

    @Test
    void mapsThatIterateInDifferentOrdersOnEachRankStillMatchByName() {
        int world = 2;
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> primary = arrays(manager, 0, new Shape(3, 4));
            Map<String, NDArray> reversed = new LinkedHashMap<>();
            List<String> names = new ArrayList<>(arrays(manager, 1, new Shape(3, 4)).keySet());
            Map<String, NDArray> other = arrays(manager, 1, new Shape(3, 4));
            for (int i = names.size() - 1; i >= 0; i--) {
                reversed.put(names.get(i), other.get(names.get(i)));
            }
            List<Map<String, NDArray>> perRank = List.of(primary, reversed);
            ThreadRanks.run(world, 256, TIMEOUT, group -> {
                ArrayBroadcast.fromPrimary(group, perRank.get(group.rank()));
                return null;
            });
            assertArrayEquals(primary.get("weight").toFloatArray(), reversed.get("weight").toFloatArray());
            assertArrayEquals(primary.get("step").toLongArray(), reversed.get("step").toLongArray());
        }
    }

    @Test
    void ranksWithDifferentShapesAllFailNamingTheArray() {
        int world = 3;
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Map<String, NDArray>> perRank = new ArrayList<>();
            for (int rank = 0; rank < world; rank++) {
                perRank.add(arrays(manager, rank, rank == 2 ? new Shape(40, 30) : new Shape(30, 40)));
            }
            List<ThreadRanks.Outcome<Object>> outcomes = ThreadRanks.runEach(world, 256, TIMEOUT, group -> {
                ArrayBroadcast.fromPrimary(group, perRank.get(group.rank()));
                return null;
            });
            for (int rank = 0; rank < world; rank++) {
                Throwable error = assertInstanceOf(IllegalStateException.class, outcomes.get(rank).error());
                assertTrue(error.getMessage().contains("is 'weight float32 (40, 30)' on rank 2 but 'weight float32"
                        + " (30, 40)' on rank 0"), error.getMessage());
            }
        }
    }

    private static Map<String, NDArray> arrays(NDManager manager, int rank, Shape weightShape) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        NDArray weight = manager.randomNormal(weightShape).add(rank);
        weight.setRequiresGradient(true);
        arrays.put("weight", weight);
        arrays.put("step", manager.create(new long[] {rank * 1000L + 7}));
        arrays.put("mask", manager.create(new boolean[] {rank == 0, rank != 0, true}));
        arrays.put("empty", manager.zeros(new Shape(0, 5), DataType.FLOAT32));
        return arrays;
    }
}
