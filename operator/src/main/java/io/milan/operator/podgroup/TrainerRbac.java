package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.milan.api.ApiGroup;
import java.util.List;

/**
 * The trainer's identity: a ServiceAccount per run whose Role lets it read its own run and patch its own run's
 * status, nothing else ({@code resourceNames} pins the one run; the status-writers admission policy then admits only
 * rank 0's pod-bound token, and only for progress, eval and checkpoint). A run naming its own ServiceAccount
 * (spec.podTemplate.spec.serviceAccountName: IRSA, Workload Identity) gets no per-run one: the Role is bound to the
 * user's instead, so the reporter in its pods still writes the run's status.
 */
public final class TrainerRbac {
    private TrainerRbac() {
    }

    /** The per-run ServiceAccount to create: none when the run brings its own. */
    public static List<ServiceAccount> serviceAccounts(RenderInput in) {
        if (PodTemplateOverrides.userServiceAccount(in.spec()) != null) {
            return List.of();
        }
        return List.of(new ServiceAccountBuilder()
                .withMetadata(in.childMetadata(in.names().trainerAccount()))
                .build());
    }

    /** The ServiceAccount the trainer pods run as, the one the Role is bound to. */
    public static String account(RenderInput in) {
        String user = PodTemplateOverrides.userServiceAccount(in.spec());
        return user != null ? user : in.names().trainerAccount();
    }

    public static Role role(RenderInput in) {
        return new RoleBuilder()
                .withMetadata(in.childMetadata(in.names().trainerAccount()))
                .withRules(
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP)
                                .withResources(in.kind().plural + "/status")
                                .withResourceNames(in.runName())
                                // The reporter reads the run itself (the rule below), never the subresource.
                                .withVerbs("patch").build(),
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
                .addNewSubject().withKind("ServiceAccount").withName(account(in))
                    .withNamespace(in.namespace()).endSubject()
                .build();
    }
}
