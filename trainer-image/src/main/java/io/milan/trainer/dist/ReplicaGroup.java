package io.milan.trainer.dist;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Data parallelism over the local devices of one process: one model replica per device (e.g.
 * {@code Device.gpu(i)}), each given an equal slice of the batch. DJL's own multi-device trainer sums the
 * replicas' gradients and steps the optimizer once per device; this helper instead
 * <ol>
 *   <li>{@link #split splits} the batch along axis 0 into equal slices, one per replica's device;</li>
 *   <li>after every replica's backward, {@link #averageGradients averages} the gradients into replica 0 (the
 *       caller then averages replica 0's across processes with a {@link GradientBucketer});</li>
 *   <li>after the one optimizer step on replica 0, {@link #copyWeightsFromPrimary copies} its weights to the
 *       other replicas.</li>
 * </ol>
 *
 * <p>Loss scaling: each replica's loss is the mean over its own slice. With equal slices of b = B/N samples,
 * the mean of the N replicas' gradients is (1/N)·Σ_i (1/b)·Σ_{j in slice i} ∇l_j = (1/B)·Σ_j ∇l_j, exactly the
 * gradient of one device taking the mean over the whole batch. Unequal slices would give the samples of a
 * smaller slice more weight, so {@link #split} refuses a batch that does not divide by the number of replicas.
 */
public final class ReplicaGroup {

    private final List<Map<String, NDArray>> replicas;
    private final List<Device> devices;

    /**
     * @param replicaParameters each replica's parameters, in the same order with the same names, shapes and
     *                          dtypes; replica i's arrays all on one device; replica 0 is the one the optimizer
     *                          steps
     */
    public ReplicaGroup(List<? extends Map<String, NDArray>> replicaParameters) {
        if (replicaParameters.isEmpty()) {
            throw new IllegalArgumentException("at least one replica is needed");
        }
        this.replicas = List.copyOf(replicaParameters);
        this.devices = new ArrayList<>();
        List<String> names = List.copyOf(replicas.get(0).keySet());
        for (int i = 0; i < replicas.size(); i++) {
            Map<String, NDArray> replica = replicas.get(i);
            if (!List.copyOf(replica.keySet()).equals(names)) {
                throw new IllegalArgumentException("replica " + i + " has parameters " + replica.keySet()
                        + " but replica 0 has " + names);
            }
            Device device = null;
            for (String name : names) {
                NDArray mine = replica.get(name);
                NDArray primary = replicas.get(0).get(name);
                if (!mine.getShape().equals(primary.getShape()) || mine.getDataType() != primary.getDataType()) {
                    throw new IllegalArgumentException("parameter '" + name + "' of replica " + i + " is "
                            + mine.getDataType() + " " + mine.getShape() + " but " + primary.getDataType() + " "
                            + primary.getShape() + " on replica 0");
                }
                if (device == null) {
                    device = mine.getDevice();
                } else if (!device.equals(mine.getDevice())) {
                    throw new IllegalArgumentException("replica " + i + " has parameters on " + device + " and "
                            + mine.getDevice() + " ('" + name + "'); a replica lives on one device");
                }
            }
            devices.add(device);
        }
    }

    public int size() {
        return replicas.size();
    }

    /** The parameters the optimizer steps (and the {@link GradientBucketer} averages across processes). */
    public Map<String, NDArray> primary() {
        return replicas.get(0);
    }

    public Device device(int replica) {
        return devices.get(replica);
    }

    /**
     * Splits {@code batch} along axis 0 into one equal slice per replica, each moved to its replica's device.
     *
     * @throws IllegalArgumentException if the batch does not divide evenly
     */
    public List<NDArray> split(NDArray batch) {
        long samples = batch.getShape().get(0);
        if (samples % size() != 0) {
            throw new IllegalArgumentException("a batch of " + samples + " samples cannot be split evenly over "
                    + size() + " devices: make the per-process batch a multiple of NPROC_PER_NODE (each replica's loss"
                    + " is a mean over its slice, so unequal slices would weigh samples unequally)");
        }
        NDList slices = batch.split(size(), 0);
        List<NDArray> placed = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            placed.add(slices.get(i).toDevice(devices.get(i), false));
        }
        return placed;
    }

    /** Splits every array of {@code batch} (images, labels, masks...) the same way; element i is replica i's. */
    public List<NDList> split(NDList batch) {
        List<NDList> perReplica = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            perReplica.add(new NDList());
        }
        for (NDArray array : batch) {
            List<NDArray> slices = split(array);
            for (int i = 0; i < size(); i++) {
                perReplica.get(i).add(slices.get(i));
            }
        }
        return perReplica;
    }

    /**
     * Replica 0's gradients := the mean of all replicas' gradients; the other replicas' gradients are zeroed
     * (consumed), ready for the next step. Frozen parameters are skipped.
     */
    public void averageGradients() {
        if (size() == 1) {
            return;
        }
        for (Map.Entry<String, NDArray> entry : primary().entrySet()) {
            if (!entry.getValue().hasGradient()) {
                continue;
            }
            try (NDArray sum = entry.getValue().getGradient()) {
                for (int i = 1; i < size(); i++) {
                    try (NDArray theirs = replicas.get(i).get(entry.getKey()).getGradient()) {
                        NDArray moved = theirs.toDevice(devices.get(0), false);
                        sum.addi(moved);
                        if (moved != theirs) {
                            moved.close();
                        }
                        HostCopies.zero(theirs);
                    }
                }
                sum.divi(size());
            }
        }
    }

    /** After the optimizer step on replica 0: every other replica's weights := replica 0's, in place. */
    public void copyWeightsFromPrimary() {
        for (Map.Entry<String, NDArray> entry : primary().entrySet()) {
            for (int i = 1; i < size(); i++) {
                HostCopies.copyInto(entry.getValue(), replicas.get(i).get(entry.getKey()));
            }
        }
    }
}
