package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.milan.trainer.data.Batch;
import io.milan.trainer.dist.c10d.DeviceUpload;

/**
 * A batch onto this process's device: on the CPU, {@link Batch#toNDList}; on a GPU, with {@code --pin_mem}, through
 * page-locked memory and an asynchronous copy (the host goes on to the next batch while it runs), else a plain
 * copy. Images float32 [B, 3, H, W], labels int64 [B], dataset indices int64 [B].
 */
final class BatchUpload {

    private BatchUpload() {
    }

    static NDList toDevice(Batch batch, NDManager manager, boolean pin) {
        Device device = manager.getDevice();
        if (!device.isGpu()) {
            return batch.toNDList(manager);
        }
        // The host arrays wrap the batch's own memory (no copy); the upload copies it before returning.
        try (NDManager host = NDManager.newBaseManager(Device.cpu())) {
            NDList onHost = new NDList(host.create(batch.imageBytes(), batch.imageShape(), DataType.FLOAT32),
                    host.create(batch.labels()), host.create(batch.indices()));
            NDList onDevice = new NDList();
            for (NDArray array : onHost) {
                onDevice.add(DeviceUpload.toGpu(array, device, pin, manager));
            }
            return onDevice;
        }
    }
}
