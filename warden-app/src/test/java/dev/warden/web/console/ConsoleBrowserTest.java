package dev.warden.web.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.testing.TestWarden;
import dev.warden.web.WebServer;
import dev.warden.worker.WorkerPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real headless Chromium (Debian's chromium + chromedriver): log in with the
 * token, watch a job go from queued to succeeded without reloading, open its evidence, flip the
 * kill switch and see the overview change. Screenshots go to target/console-screenshots/.
 */
class ConsoleBrowserTest {
    static final String TOKEN = "wdn_browser_token_0123456789abcdef";
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path dir;
    WardenApp app;
    WorkerPool pool;
    WebServer server;
    String base;
    WebDriver browser;
    final Path shots = Path.of("target", "console-screenshots");

    /** The console's live-update threads alive before the test: its own must be gone when the server closes. */
    java.util.Set<Thread> watchersBefore;

    private static java.util.Set<Thread> liveWatchers() {
        java.util.Set<Thread> out = new java.util.HashSet<>();
        Thread.getAllStackTraces().keySet().forEach(t -> {
            if (t.getName().equals("console-events") && t.isAlive()) {
                out.add(t);
            }
        });
        return out;
    }

    @BeforeEach
    void start() throws Exception {
        watchersBefore = liveWatchers();
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            if ("1".equals(System.getenv("WARDEN_REQUIRE_BROWSER"))) {
                throw new AssertionError("WARDEN_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed");
            }
            Assumptions.abort("chromium and chromedriver are not installed");
        }
        app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), "worker: {tick_ms: 100, poll_ms: 20}\n");
        Files.writeString(dir.resolve("data/console.token"), TOKEN + "\n");
        app.secrets().register(TOKEN);
        pool = app.newWorkerPool(2);
        server = new WebServer(app, TOKEN, pool::wakeUp);
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0, false);
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                "--window-size=1280,1000", "--user-data-dir=" + dir.resolve("chrome-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, o);
        Files.createDirectories(shots);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
            // it polled the store after the app had closed it, and so recreated the WAL files while
            // the temporary directory was being deleted
            assertThat(liveWatchers()).as("the console's live-update thread stops with the server").isSubsetOf(watchersBefore);
            pool.shutdown(Duration.ofSeconds(2));
            app.close();
        }
    }

    private void shot(String name) throws Exception {
        Files.write(shots.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    private String enqueueNoop() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header(WebServer.TOKEN_HEADER, TOKEN).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(201);
        return Json.parse(r.body()).path("id").asText();
    }

    @Test
    void loginWatchAJobFinishOpenItsEvidenceAndFlipTheKillSwitch() throws Exception {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        browser.get(base + "/");
        wait.until(ExpectedConditions.urlContains("/login"));
        browser.findElement(By.id("token")).sendKeys("wrong-token");
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        try {
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector(".error"), "not the console token"));
        } catch (RuntimeException e) {
            shot("00-login-failed");
            throw new AssertionError("login page after a wrong token: " + browser.getCurrentUrl() + "\n" + browser.getPageSource(), e);
        }
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("killswitch-state")));
        assertThat(browser.manage().getCookieNamed("warden_session").isHttpOnly()).isTrue();
        shot("01-overview");

        // a job enqueued while no worker runs: its page shows it queued, then succeeded, without a reload
        String id = enqueueNoop();
        browser.get(base + "/jobs/" + id);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-state"), "queued"));
        wait.until(d -> "connected".equals(d.findElement(By.tagName("body")).getAttribute("data-live")));
        Object marker = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return window.__noReload = 'still here';");
        assertThat(marker).isEqualTo("still here");
        shot("02-job-queued");
        pool.start();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-state"), "succeeded"));
        assertThat(((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return window.__noReload;")).isEqualTo("still here");
        // the evidence summary, rendered
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("evidence"), "What it cost"));
        assertThat(textOf(wait, By.id("evidence"))).contains("wall time").contains("Timeline");
        shot("03-job-succeeded-with-evidence");

        // the jobs list shows it too
        browser.get(base + "/jobs?state=succeeded");
        assertThat(textOf(wait, By.cssSelector("tr[data-job='" + id + "']"))).contains("succeeded");

        // the kill switch, flipped from the overview
        browser.get(base + "/");
        wait.until(ExpectedConditions.textToBe(By.id("killswitch-state"), "OFF"));
        click(wait, By.id("killswitch-toggle"));
        wait.until(ExpectedConditions.textToBe(By.id("killswitch-state"), "ON"));
        assertThat(app.killSwitch().isOn()).isTrue();
        shot("04-killswitch-on");
        assertThat(app.store().read(tx -> tx.ledgerTail(20)).toString()).contains("console:tok-");
        // flipped back by someone else (the CLI): the open page follows by itself
        app.killSwitch().set(false, "cli:test");
        wait.until(ExpectedConditions.textToBe(By.id("killswitch-state"), "OFF"));
        assertThat(browser.getPageSource()).doesNotContain(TOKEN);
    }

    @Test
    void approveAnEscalationWithThePlanShown() throws Exception {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        pool.start();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header(WebServer.TOKEN_HEADER, TOKEN).POST(HttpRequest.BodyPublishers.ofString("""
                        {"kind":"triage","payload":{"source":"api","execute":true,"messages":[
                          {"id":"m1","from":"ops@example.test","subject":"leaked password","body":"the deploy password is in the chat"}]},
                         "budgets":{"wall_time_s":30,"tool_calls":0,"output_bytes":100000}}""")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(201);
        String id = Json.parse(r.body()).path("id").asText();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> app.queue().get(id).state() == dev.warden.job.JobState.escalated);

        browser.get(base + "/login");
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("overview-approvals"), "1 request waits"));
        click(wait, By.cssSelector("#overview-approvals a"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article.approval")));
        String card = textOf(wait, By.cssSelector("article.approval"));
        assertThat(card).contains("rotate_secret").contains("touches_secrets").contains("m1").contains("leaked password")
                .contains("The plan for this message").contains("label");
        wait.until(d -> "connected".equals(d.findElement(By.tagName("body")).getAttribute("data-live")));
        shot("05-approval-pending");
        click(wait, By.cssSelector("article.approval button.approve"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("approvals-pending"), "0 requests wait"));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> app.queue().get(id).state() == dev.warden.job.JobState.succeeded);
        browser.get(base + "/jobs/" + id);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-state"), "succeeded"));
        assertThat(browser.getPageSource()).contains("approved").contains("console:tok-");
        shot("06-approved-job-succeeded");
        assertThat(app.store().read(tx -> tx.ledgerByCorrId(id)).toString()).contains("approval.approved").contains("console:tok-");
    }

    /** The element's text, found again if a live-region refresh replaced it between find and read. */
    private static String textOf(WebDriverWait wait, By by) {
        return wait.until(d -> {
            try {
                return d.findElement(by).getText();
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return null; // the live region was refreshed under us: read it again
            }
        });
    }

    /** Clicks the element, finding it again if a live-region refresh replaced it between find and click. */
    private static void click(WebDriverWait wait, By by) {
        wait.until(d -> {
            try {
                d.findElement(by).click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return false;
            }
        });
    }
}
