package io.milan.operator.naming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ChildNamesTest {
    private static final Pattern DNS_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    @Test
    void aShortRunNameIsUsedAsIs() {
        ChildNames names = ChildNames.of("milan-vit-base");
        assertEquals("milan-vit-base", names.service());
        assertEquals("milan-vit-base-a1", names.job(1));
        assertEquals("milan-vit-base-a12", names.job(12));
        assertEquals("milan-vit-base-trainer", names.trainerAccount());
        assertEquals("milan-vit-base-a3-0.milan-vit-base", names.masterAddress(3));
    }

    @Test
    void a253CharacterRunNameGivesValidNamesAndHostnames() {
        String longName = "a".repeat(100) + "." + "b".repeat(100) + "." + "c".repeat(51);
        assertEquals(253, longName.length());
        ChildNames names = ChildNames.of(longName);

        assertTrue(names.service().length() <= 63, names.service());
        assertTrue(DNS_1035.matcher(names.service()).matches(), names.service());
        assertTrue(names.base().length() <= 63, "label value " + names.base());
        String job = names.job(999_999);
        assertTrue(job.length() <= ChildNames.MAX_JOB_NAME, job);
        String hostname = job + "-1023";
        assertTrue(hostname.length() <= 63, hostname);
        assertTrue(DNS_1123_LABEL.matcher(hostname).matches(), hostname);
        assertTrue(names.trainerAccount().length() <= 253);
    }

    @Test
    void namesThatDifferOnlyAfterTheTruncationStayDistinct() {
        String prefix = "x".repeat(60);
        assertNotEquals(ChildNames.of(prefix + "-one").base(), ChildNames.of(prefix + "-two").base());
        assertEquals(ChildNames.of(prefix + "-one").base(), ChildNames.of(prefix + "-one").base(), "deterministic");
    }

    @Test
    void dotsAndLeadingDigitsAreMadeIntoAServiceName() {
        ChildNames dotted = ChildNames.of("run.v2");
        assertTrue(DNS_1035.matcher(dotted.service()).matches(), dotted.service());
        assertTrue(dotted.service().startsWith("run-v2-"), dotted.service());
        assertNotEquals(ChildNames.of("run-v2").service(), dotted.service(), "run.v2 and run-v2 must not collide");

        ChildNames digits = ChildNames.of("2024-run");
        assertTrue(DNS_1035.matcher(digits.service()).matches(), digits.service());
    }

    @Test
    void attemptsOutsideTheNameBudgetAreRefused() {
        ChildNames names = ChildNames.of("r");
        assertThrows(IllegalArgumentException.class, () -> names.job(0));
        assertThrows(IllegalArgumentException.class, () -> names.job(1_000_000));
    }
}
