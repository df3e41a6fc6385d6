package io.milan.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
  * Runs the annotated test class against a real Kubernetes control plane.
  *
  * <p>Once per test JVM the {@link LocalClusterExtension} starts {@code e2e/local-cluster.sh up}
  * (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with fake
  * {@code nvidia.com/gpu} nodes), or, when the environment variable {@code KUBECONFIG} is set,
  * uses that cluster instead. The CRDs in {@code crds/manifests/} are installed once. Each test
  * class gets its own fresh namespace, deleted afterwards.
  *
  * <p>Tests receive what they need as parameters of test methods, lifecycle methods or the
  * constructor:
  *
  * <ul>
  *   <li>{@link io.fabric8.kubernetes.client.KubernetesClient}: a client whose default namespace is
  *       the class's namespace (closed by the extension);
  *   <li>{@link TestCluster}: the namespace name, the kubeconfig path, {@code kubectl} and the
  *       fake-node layout.
  * </ul>
  */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(LocalClusterExtension.class)
public @interface WithLocalCluster {}
