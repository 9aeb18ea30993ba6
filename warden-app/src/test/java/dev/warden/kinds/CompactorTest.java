package dev.warden.kinds;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompactorTest {
    static final String LICENSE = "Copyright (c) 2026 Example Corp. All rights reserved.";

    static Compactor.Document doc(String name, String text) {
        return new Compactor.Document(name, text);
    }

    static List<Compactor.Document> corpus() {
        StringBuilder filler = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            filler.append("This paragraph number ").append(i).append(" explains a detail at length. ")
                    .append("It goes on with more words that nobody needs in a summary. And more.\n\n");
        }
        return List.of(
                doc("a.md", LICENSE + "\n\n# Install\n\nRun the installer. It takes a minute and prints progress.\n\n"
                        + "WARNING: the installer MUST run as an unprivileged user.\n\n" + filler
                        + "## Shared\n\nShared paragraph that appears in two documents.\n"),
                doc("b.md", LICENSE + "\n\n# Usage\n\n- list item one\n- list item two\n\n"
                        + "Shared paragraph that appears in two documents.\n\nTODO: document the flags.\n\n" + filler),
                doc("c.md", LICENSE + "\n\n# Notes\n\nShort notes.   \n\n\n\nMore notes after blank lines.\n"));
    }

    @Test
    void reachesTheTargetKeepingHeadingsAndKeyLines() {
        Compactor.Result r = Compactor.compact(corpus(), 1500);
        assertThat(r.text().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1500);
        assertThat(r.text()).contains("# Install", "# Usage", "# Notes", "## Shared",
                "WARNING: the installer MUST run as an unprivileged user.", "TODO: document the flags.", "- list item one");
        assertThat(r.stats().cut()).isFalse();
    }

    @Test
    void dropsBoilerplateAndDuplicateParagraphs() {
        Compactor.Result r = Compactor.compact(corpus(), 1_000_000);
        assertThat(r.text()).doesNotContain("Copyright");
        assertThat(r.stats().boilerplateLines()).isEqualTo(3);
        assertThat(r.text().split("Shared paragraph that appears", -1)).hasSize(2);
        assertThat(r.stats().duplicateParagraphs()).isGreaterThanOrEqualTo(1);
        assertThat(r.stats().shortenedParagraphs()).as("under the target nothing is shortened").isZero();
        assertThat(r.text()).doesNotContain("\n\n\n").doesNotContain("notes.   ");
    }

    @Test
    void isDeterministic() {
        assertThat(Compactor.compact(corpus(), 900).text()).isEqualTo(Compactor.compact(corpus(), 900).text());
    }

    @Test
    void cutsWithAMarkerWhenEvenKeyLinesDoNotFit() {
        Compactor.Result r = Compactor.compact(corpus(), 120);
        assertThat(r.text().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(120);
        assertThat(r.text()).endsWith("[compacted: cut at 120 bytes]\n");
        assertThat(r.stats().cut()).isTrue();
    }
}
