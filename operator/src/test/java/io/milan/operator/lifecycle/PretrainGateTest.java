package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.CheckpointStatus;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.operator.Fixtures;
import org.junit.jupiter.api.Test;

class PretrainGateTest {
    private final MilanFinetune ft = Fixtures.finetune("finetune-vit-base.yaml");
    private final MilanPretrain pt = Fixtures.pretrain("pretrain-vit-base.yaml");

    @Test
    void waitsWhileThePretrainIsMissingOrNotDone() {
        var missing = PretrainGate.resolve(ft.getSpec(), null);
        assertFalse(missing.isReady());
        assertFalse(missing.failed());
        assertTrue(missing.message().contains("milan-vit-base"), missing.message());

        pt.setStatus(status(RunPhase.Running));
        var running = PretrainGate.resolve(ft.getSpec(), pt);
        assertFalse(running.isReady());
        assertEquals("waiting for MilanPretrain milan-vit-base to succeed (phase: Running)", running.message());
    }

    @Test
    void failsWhenThePretrainFailed() {
        pt.setStatus(status(RunPhase.Failed));
        pt.getStatus().message = "no gang restarts left";
        var r = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(r.failed());
        assertEquals("MilanPretrain milan-vit-base failed: no gang restarts left", r.message());
    }

    @Test
    void startsFromTheFinalCheckpointOnThePretrainsClaim() {
        pt.getSpec().output.subPath = "runs/base";
        pt.setStatus(status(RunPhase.Succeeded));
        pt.getStatus().checkpoint = new CheckpointStatus();
        pt.getStatus().checkpoint.path = "/output/checkpoint-399.safetensors";
        var r = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(r.isReady());
        assertEquals("/milan/pretrained/checkpoint-399.safetensors", r.pretrained().checkpointPath());
        assertEquals("milan-vit-base-output", r.pretrained().mount().claimName);
        assertEquals("runs/base", r.pretrained().mount().subPath);
        assertEquals("/milan/pretrained", r.pretrained().mount().path);
    }

    @Test
    void anObjectStorageCheckpointIsReadFromThePretrainsClaimOrRefused() {
        pt.setStatus(status(RunPhase.Succeeded));
        pt.getStatus().checkpoint = new CheckpointStatus();
        pt.getStatus().checkpoint.path = "s3://milan/pretrain/checkpoint-399.safetensors";
        var fromClaim = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(fromClaim.isReady(), fromClaim.message());
        assertEquals("/milan/pretrained/checkpoint-399.safetensors", fromClaim.pretrained().checkpointPath());

        pt.getSpec().output = new StorageLocation("/output", null);
        var noConnection = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(noConnection.failed());
        assertTrue(noConnection.message().contains("no spec.output.s3"), noConnection.message());

        pt.getSpec().output.s3 = new ObjectStorage();
        pt.getSpec().output.s3.url = "s3://milan/pretrain";
        pt.getSpec().output.s3.endpoint = "http://minio.storage:9000";
        pt.getSpec().output.s3.credentialsSecret = "milan-s3";
        var onlyInTheBucket = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(onlyInTheBucket.isReady(), onlyInTheBucket.message());
        assertEquals("s3://milan/pretrain/checkpoint-399.safetensors", onlyInTheBucket.pretrained().checkpointPath());
        ObjectStorage read = onlyInTheBucket.pretrained().mount().s3;
        assertEquals("s3://milan/pretrain/checkpoint-399.safetensors", read.url);
        assertEquals("http://minio.storage:9000", read.endpoint);
        assertEquals("milan-s3", read.credentialsSecret, "read with the pretrain's own Secret");
        assertNull(onlyInTheBucket.pretrained().mount().claimName, "nothing to mount");
    }

    @Test
    void failsWhenTheCheckpointCannotBeReached() {
        pt.setStatus(status(RunPhase.Succeeded));
        assertTrue(PretrainGate.resolve(ft.getSpec(), pt).message().contains("reported no checkpoint"));

        pt.getStatus().checkpoint = new CheckpointStatus();
        pt.getStatus().checkpoint.path = "/elsewhere/c.safetensors";
        var outside = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(outside.failed());
        assertTrue(outside.message().contains("not under its output path /output"), outside.message());

        pt.getStatus().checkpoint.path = "/output/c.safetensors";
        pt.getSpec().output = null;
        var ephemeral = PretrainGate.resolve(ft.getSpec(), pt);
        assertTrue(ephemeral.failed());
        assertTrue(ephemeral.message().contains("emptyDir"), ephemeral.message());
    }

    @Test
    void aCheckpointLocationIsUsedDirectly() {
        ft.getSpec().pretrained.pretrainRef = null;
        ft.getSpec().pretrained.checkpoint = new StorageLocation("/weights/milan.safetensors", "weights");
        var r = PretrainGate.resolve(ft.getSpec(), null);
        assertEquals("/weights/milan.safetensors", r.pretrained().checkpointPath());
        assertEquals("weights", r.pretrained().mount().claimName);

        ft.getSpec().pretrained.checkpoint = new StorageLocation("/opt/milan/encoder.safetensors", null);
        assertNull(PretrainGate.resolve(ft.getSpec(), null).pretrained().mount(), "a path in the image");

        ft.getSpec().pretrained.checkpoint = new StorageLocation();
        ft.getSpec().pretrained.checkpoint.s3 = new ObjectStorage();
        ft.getSpec().pretrained.checkpoint.s3.url = "s3://models/milan/checkpoint-399.safetensors";
        var fromBucket = PretrainGate.resolve(ft.getSpec(), null);
        assertEquals("s3://models/milan/checkpoint-399.safetensors", fromBucket.pretrained().checkpointPath());
        assertEquals(ft.getSpec().pretrained.checkpoint.s3, fromBucket.pretrained().mount().s3);
    }

    private static RunStatus status(RunPhase phase) {
        RunStatus s = new RunStatus();
        s.phase = phase;
        return s;
    }
}
