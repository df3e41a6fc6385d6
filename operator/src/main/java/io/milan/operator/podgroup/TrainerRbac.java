package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.milan.api.ApiGroup;

/**
 * The trainer's identity: a ServiceAccount per run whose Role lets it read its own run and get/patch its own
 * run's status, nothing else ({@code resourceNames} pins the one run).
 */
public final class TrainerRbac {
    private TrainerRbac() {
    }

    public static ServiceAccount serviceAccount(RenderInput in) {
        return new ServiceAccountBuilder()
                .withMetadata(in.childMetadata(in.names().trainerAccount()))
                .build();
    }

    public static Role role(RenderInput in) {
        return new RoleBuilder()
                .withMetadata(in.childMetadata(in.names().trainerAccount()))
                .withRules(
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP)
                                .withResources(in.kind().plural + "/status")
                                .withResourceNames(in.runName())
                                .withVerbs("get", "patch").build(),
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP)
                                .withResources(in.kind().plural)
                                .withResourceNames(in.runName())
                                .withVerbs("get").build())
                .build();
    }

    public static RoleBinding roleBinding(RenderInput in) {
        return new RoleBindingBuilder()
                .withMetadata(in.childMetadata(in.names().trainerAccount()))
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", in.names().trainerAccount())
                .addNewSubject().withKind("ServiceAccount").withName(in.names().trainerAccount())
                    .withNamespace(in.namespace()).endSubject()
                .build();
    }
}
