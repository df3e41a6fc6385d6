package io.milan.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.milan.api.CheckpointStatus;
import io.milan.api.MilanPretrain;
import io.milan.api.Progress;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import org.junit.jupiter.api.Test;

class OperatorStatusTest {
    @Test
    void theOperatorsCopyLeavesTheTrainersFieldsOut() {
        RunStatus full = new RunStatus();
        full.phase = RunPhase.Running;
        full.attempt = 2;
        full.progress = new Progress();
        full.progress.attempt = 2;
        full.progress.globalStep = 10L;
        full.checkpoint = new CheckpointStatus();

        RunStatus mine = OperatorStatus.copyOf(full);
        assertEquals(RunPhase.Running, mine.phase);
        assertEquals(2, mine.attempt);
        assertNull(mine.progress);
        assertNull(mine.checkpoint);
        assertNull(mine.eval);
        assertTrue(OperatorStatus.same(full, mine), "trainer fields do not count as a difference");
        mine.attempt = 3;
        assertFalse(OperatorStatus.same(full, mine));
    }

    @Test
    void theApplyBodyHasNoSpecAndNoTrainerFields() {
        MilanPretrain body = new MilanPretrain();
        body.setMetadata(new ObjectMetaBuilder().withName("r").withNamespace("ns").build());
        body.setSpec(null);
        RunStatus s = new RunStatus();
        s.phase = RunPhase.Pending;
        body.setStatus(OperatorStatus.copyOf(s));
        String json = Serialization.asJson(body);
        assertFalse(json.contains("\"spec\""), json);
        assertFalse(json.contains("progress") || json.contains("eval") || json.contains("checkpoint"), json);
        assertTrue(json.contains("\"apiVersion\":\"milan.io/v1alpha1\""), json);
        assertTrue(json.contains("\"kind\":\"MilanPretrain\""), json);
    }
}
