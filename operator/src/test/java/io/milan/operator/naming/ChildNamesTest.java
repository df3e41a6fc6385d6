package io.milan.operator.naming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.operator.reconcile.RunKind;
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

    @Test
    void aFinetuneAndAPretrainOfOneNameGetDistinctChildNames() {
        ChildNames pretrain = ChildNames.of(RunKind.PRETRAIN, "x");
        ChildNames finetune = ChildNames.of(RunKind.FINETUNE, "x");
        assertEquals("x", pretrain.service(), "a pretrain's names are unchanged");
        assertEquals("x-ft", finetune.service());
        assertEquals("x-ft-a1", finetune.job(1));
        assertEquals("x-ft-trainer", finetune.trainerAccount());

        String fifty = "f".repeat(50);
        ChildNames longFinetune = ChildNames.of(RunKind.FINETUNE, fifty);
        assertEquals(fifty, ChildNames.of(RunKind.PRETRAIN, fifty).base());
        assertTrue(longFinetune.base().length() <= ChildNames.MAX_BASE, longFinetune.base());
        assertTrue(longFinetune.base().endsWith("-ft"), longFinetune.base());
        assertTrue(DNS_1035.matcher(longFinetune.service()).matches(), longFinetune.service());
        assertTrue(longFinetune.job(999_999).length() <= ChildNames.MAX_JOB_NAME, longFinetune.job(999_999));

        String huge = "a".repeat(100) + "." + "b".repeat(152);
        ChildNames hugeFinetune = ChildNames.of(RunKind.FINETUNE, huge);
        assertTrue(hugeFinetune.base().length() <= ChildNames.MAX_BASE, hugeFinetune.base());
        assertTrue(DNS_1123_LABEL.matcher(hugeFinetune.job(999_999) + "-1023").matches());
        assertTrue((hugeFinetune.job(999_999) + "-1023").length() <= 63);
        assertNotEquals(ChildNames.of(RunKind.PRETRAIN, huge).base(), hugeFinetune.base());
    }
}
