package io.milan.trainer.optim;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.trainer.model.GradMode;
import io.milan.trainer.torch.MilanTorchNative;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Dynamic loss scaling for float16 training, as {@code torch.amp.GradScaler} (torch.cuda.amp.GradScaler) with
 * MAE's {@code NativeScalerWithGradNormCount} around it: the loss is multiplied by the scale before backward; at an
 * optimizer step the gradients are unscaled (libtorch's {@code _amp_foreach_non_finite_check_and_unscale_}, which
 * also notes any inf/NaN), so clipping sees true gradients; a step whose gradients hold an inf or NaN is skipped
 * (parameters and optimizer state untouched) and the scale backs off; after {@code growthInterval} good steps in a
 * row it grows ({@code _amp_update_scale_}). Defaults are PyTorch's: init 2^16, growth 2, backoff 0.5, interval
 * 2000. The state (scale and growth tracker) lives in checkpoints as {@link #stateJson()}, PyTorch's
 * {@code GradScaler.state_dict()} keys.
 *
 * <p>Usage per optimizer step: {@link #scale} the loss of each micro-batch; at the boundary
 * {@code if (!unscale(...)) { clip; optimizer.step(); }} then {@link #update()}.
 *
 * <p>With several processes, unscale after the gradients are averaged (as DDP + GradScaler do): they are then
 * identical on every rank, so every rank finds the same inf and skips the same steps.
 */
public final class GradScaler implements AutoCloseable {
    public static final double INIT_SCALE = 65536.0;
    public static final double GROWTH_FACTOR = 2.0;
    public static final double BACKOFF_FACTOR = 0.5;
    public static final int GROWTH_INTERVAL = 2000;
    private static final String SKIPPED = "milan_skipped_steps";

    private final NDManager manager;
    private final Device device;
    private NDArray scale; // float32 0-dim, as PyTorch's _scale
    private NDArray growthTracker; // int32 0-dim, as PyTorch's _growth_tracker
    private NDArray foundInf; // float32 0-dim, of the step between unscale() and update()
    private double growthFactor;
    private double backoffFactor;
    private int growthInterval;
    private boolean unscaled;
    private boolean lastFoundInf;
    private long skippedSteps;

    /** PyTorch's defaults on {@code device}; the state lives on a sub-manager of {@code manager}. */
    public GradScaler(NDManager manager, Device device) {
        this(manager, device, INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL);
    }

    public GradScaler(NDManager manager, Device device, double initScale, double growthFactor, double backoffFactor,
            int growthInterval) {
        requireSettings(initScale, growthFactor, backoffFactor, growthInterval);
        MilanTorchNative.requireLoaded();
        this.manager = manager.newSubManager(device);
        this.device = device;
        this.scale = this.manager.full(new Shape(), (float) initScale, DataType.FLOAT32, device);
        this.growthTracker = this.manager.zeros(new Shape(), DataType.INT32, device);
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** {@code scaler.scale(loss)}: loss × scale (a new array, in autograd's graph like the loss). */
    public NDArray scale(NDArray loss) {
        return loss.mul(scale);
    }

    /**
     * {@code scaler.unscale_(optimizer)}: divides every gradient of {@code names} in place by the scale and reports
     * whether any of them holds an inf or NaN, in which case the step must be skipped (call {@link #update()}
     * either way). Once per optimizer step.
     *
     * @return true when the step must be skipped
     */
    public boolean unscale(Map<String, NDArray> params, Collection<String> names) {
        if (unscaled) {
            throw new IllegalStateException("unscale() has already been called since the last update()");
        }
        // PyTorch: inv_scale = self._scale.double().reciprocal().float()
        float inv = (float) (1.0 / scale.getFloat());
        List<NDArray> grads = new ArrayList<>(names.size());
        try (GradMode ignored = GradMode.disabled();
                NDArray invScale = manager.full(new Shape(), inv, DataType.FLOAT32, device)) {
            for (String name : names) {
                grads.add(NamedParams.gradient(params, name));
            }
            long[] handles = grads.stream().mapToLong(g -> ((PtNDArray) g).getHandle()).toArray();
            foundInf = manager.zeros(new Shape(), DataType.FLOAT32, device); // the shim writes into it
            check(MilanTorchNative.milan_torch_amp_unscale(handles, handles.length, handle(foundInf),
                    handle(invScale)));
        } finally {
            grads.forEach(NDArray::close);
        }
        unscaled = true;
        lastFoundInf = foundInf.getFloat() != 0f;
        return lastFoundInf;
    }

    /**
     * {@code scaler.update()}: backs the scale off after a skipped step (and restarts the count of good steps),
     * else counts the good step and grows the scale when the count reaches the growth interval.
     */
    public void update() {
        if (!unscaled) {
            throw new IllegalStateException("update() without unscale() for this step");
        }
        try (GradMode ignored = GradMode.disabled()) {
            check(MilanTorchNative.milan_torch_amp_update_scale(handle(scale), handle(growthTracker),
                    handle(foundInf), growthFactor, backoffFactor, growthInterval));
        }
        if (lastFoundInf) {
            skippedSteps++;
        }
        foundInf.close();
        foundInf = null;
        unscaled = false;
    }

    /** The current scale. */
    public double scaleValue() {
        return scale.getFloat();
    }

    /** Good steps in a row since the scale last changed. */
    public int growthTracker() {
        return growthTracker.getInt();
    }

    public int growthInterval() {
        return growthInterval;
    }

    /** Steps skipped for inf/NaN gradients (over the run: the count is saved with the state). */
    public long skippedSteps() {
        return skippedSteps;
    }

    /**
     * PyTorch's {@code GradScaler.state_dict()} as JSON (MAE saves it as the checkpoint's {@code scaler}), plus
     * {@code milan_skipped_steps}.
     */
    public String stateJson() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("scale", scaleValue());
        state.put("growth_factor", growthFactor);
        state.put("backoff_factor", backoffFactor);
        state.put("growth_interval", growthInterval);
        state.put("_growth_tracker", growthTracker());
        state.put(SKIPPED, skippedSteps); // ours: the run's skipped steps continue over a resume
        return new Gson().toJson(state);
    }

    /** {@code GradScaler.load_state_dict}: every key of {@link #stateJson()} is required. */
    public void loadStateJson(String json) {
        JsonObject o;
        try {
            o = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("loss scaler state is not a JSON object: " + json, e);
        }
        for (String key : new String[] {"scale", "growth_factor", "backoff_factor", "growth_interval",
                "_growth_tracker"}) {
            if (!o.has(key)) {
                throw new IllegalArgumentException("loss scaler state lacks '" + key + "': " + json);
            }
        }
        double s = o.get("scale").getAsDouble();
        double growth = o.get("growth_factor").getAsDouble();
        double backoff = o.get("backoff_factor").getAsDouble();
        int interval = o.get("growth_interval").getAsInt();
        int tracker = o.get("_growth_tracker").getAsInt();
        requireSettings(s, growth, backoff, interval);
        if (tracker < 0) {
            throw new IllegalArgumentException("loss scaler _growth_tracker must be >= 0, got " + tracker);
        }
        NDArray newScale = manager.full(new Shape(), (float) s, DataType.FLOAT32, device);
        NDArray newTracker = manager.full(new Shape(), (float) tracker, DataType.INT32, device);
        scale.close();
        growthTracker.close();
        scale = newScale;
        growthTracker = newTracker;
        if (foundInf != null) {
            foundInf.close();
            foundInf = null;
        }
        growthFactor = growth;
        backoffFactor = backoff;
        growthInterval = interval;
        skippedSteps = o.has(SKIPPED) ? o.get(SKIPPED).getAsLong() : 0;
        unscaled = false;
    }

    /** One line for logs. */
    public String describe() {
        return String.format(Locale.ROOT, "scale %.6g, growth x%s every %d good steps, backoff x%s", scaleValue(),
                growthFactor, growthInterval, backoffFactor);
    }

    @Override
    public void close() {
        manager.close();
    }

    private static void requireSettings(double initScale, double growth, double backoff, int interval) {
        if (!(initScale > 0) || Double.isInfinite(initScale)) {
            throw new IllegalArgumentException("loss scale must be a finite value > 0, got " + initScale);
        }
        if (!(growth > 1) || Double.isInfinite(growth)) {
            throw new IllegalArgumentException("loss scale growth factor must be > 1, got " + growth);
        }
        if (!(backoff > 0 && backoff < 1)) {
            throw new IllegalArgumentException("loss scale backoff factor must be in (0, 1), got " + backoff);
        }
        if (interval < 1) {
            throw new IllegalArgumentException("loss scale growth interval must be >= 1, got " + interval);
        }
    }

    private static long handle(NDArray a) {
        return ((PtNDArray) a).getHandle();
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
    }
}
