package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The helpers behind the extension, without a cluster. */
class SupportTest {

    @Test
    void repoRootIsTheNearestAncestorHoldingTheClusterScript(@TempDir Path tmp) throws IOException {
        Path repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve("e2e"));
        Files.writeString(repo.resolve("e2e/local-cluster.sh"), "#!/bin/sh\n");
        Path deep = Files.createDirectories(repo.resolve("crds/target/classes"));
        assertEquals(Optional.of(repo), RepoRoot.find(deep));
        assertEquals(Optional.empty(), RepoRoot.find(tmp));
    }

    @Test
    void awaitReturnsTheFirstValueThatSatisfiesTheCondition() {
        AtomicInteger calls = new AtomicInteger();
        int value = Await.until("the third call", Duration.ofSeconds(10), calls::incrementAndGet, v -> v >= 3);
        assertEquals(3, value);
    }

    @Test
    void awaitTimesOutNamingWhatItWaitedForAndWhatItSaw() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> Await.until("the answer", Duration.ofMillis(300), () -> 41, v -> v == 42));
        assertTrue(e.getMessage().contains("waiting for the answer; last seen: 41"), e.getMessage());
    }

    @Test
    void namespaceNamesAreValidDnsLabelsDerivedFromTheClass() {
        Class<?> longName = AVeryLongTestClassNameThatKeepsGoingAndGoingBeyondSixtyThreeCharactersIT.class;
        String name = TestCluster.namespaceName(longName);
        assertTrue(name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") && name.length() <= 63, name);
        assertTrue(name.startsWith("it-a-very-long-test-class-name"), name);
        String other = TestCluster.namespaceName(longName);
        assertTrue(!name.equals(other), "each call gives a fresh name: " + name);
    }

    static final class AVeryLongTestClassNameThatKeepsGoingAndGoingBeyondSixtyThreeCharactersIT {}
}
