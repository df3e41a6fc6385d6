package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.milan.trainer.dist.DistConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** One device per process: the GPU of LOCAL_RANK, and no silent CPU fallback when GPUs were asked for. */
class DevicesTest {

    private static DistConfig local(int localRank, int localWorldSize) {
        return new DistConfig("127.0.0.1", 29500, 8, localRank, localRank, localWorldSize, 0, Duration.ofSeconds(5));
    }

    @Test
    void eachProcessTakesTheGpuOfItsLocalRank() {
        assertEquals(Device.gpu(3), Devices.resolve("cuda", local(3, 8), 8));
        assertEquals(Device.gpu(0), Devices.resolve("auto", local(0, 1), 2));
        assertEquals(Device.cpu(), Devices.resolve("cpu", local(3, 8), 8));
        assertEquals(Device.cpu(), Devices.resolve("auto", local(0, 1), 0), "auto without any GPU: the CPU");
    }

    @Test
    void fewerGpusThanProcessesOrNoneFailsSayingHowMany() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Devices.resolve("cuda", local(1, 4), 2));
        assertTrue(e.getMessage().contains("4 processes were started on this node")
                && e.getMessage().contains("libtorch sees only 2 GPUs"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Devices.resolve("cuda", local(0, 1), 0));
        assertTrue(e.getMessage().startsWith("--device cuda: no GPU visible to libtorch"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Devices.resolve("auto", local(2, 4), 2),
                "auto with too few GPUs fails too: it does not fall back to the CPU");
    }
}
