package io.milan.operator.podgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.milan.api.MilanPretrain;
import io.milan.operator.Fixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChildrenRenderTest {
    private final MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
    private final RenderInput in = Fixtures.input(run, 1);

    @Test
    void theServiceIsHeadlessAndSelectsTheRunsPods() {
        var svc = HeadlessService.render(in);
        assertEquals("quickstart", svc.getMetadata().getName());
        assertEquals("None", svc.getSpec().getClusterIP());
        assertEquals(Boolean.TRUE, svc.getSpec().getPublishNotReadyAddresses());
        assertEquals(Map.of("milan.io/kind", "pretrain", "milan.io/run", "quickstart"), svc.getSpec().getSelector());
        assertEquals(29500, svc.getSpec().getPorts().get(0).getPort());
        assertEquals(Boolean.TRUE, svc.getMetadata().getOwnerReferences().get(0).getController());
    }

    @Test
    void theTrainerMayOnlyReadItsRunAndPatchItsStatus() {
        var role = TrainerRbac.role(in);
        assertEquals(2, role.getRules().size());
        var status = role.getRules().get(0);
        assertEquals(List.of("milan.io"), status.getApiGroups());
        assertEquals(List.of("milanpretrains/status"), status.getResources());
        assertEquals(List.of("quickstart"), status.getResourceNames());
        assertEquals(List.of("patch"), status.getVerbs(), "the reporter reads the run, not its status");
        var self = role.getRules().get(1);
        assertEquals(List.of("milanpretrains"), self.getResources());
        assertEquals(List.of("quickstart"), self.getResourceNames());
        assertEquals(List.of("get"), self.getVerbs());

        var binding = TrainerRbac.roleBinding(in);
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals("quickstart-trainer", binding.getRoleRef().getName());
        assertEquals("quickstart-trainer", binding.getSubjects().get(0).getName());
        assertEquals("ServiceAccount", binding.getSubjects().get(0).getKind());
        assertEquals("quickstart-trainer", TrainerRbac.serviceAccounts(in).get(0).getMetadata().getName());
    }
}
