// fleet-console: the desktop console. Command line and wiring only; the window lives in widgets/.

#include "connectionprofiles.h"
#include "consolewindow.h"
#include "demofleet.h"
#include "fleetsession.h"
#include "incidentreplay.h"
#include "isotime.h"
#include "localstore.h"
#include "profilesettings.h"
#include "terminalsafe.h"
#include "theme.h"
#include "tokensource.h"
#include "warroomview.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QFileInfo>
#include <QIcon>
#include <QScreen>
#include <QSettings>
#include <QTextStream>
#include <QTimer>

#include <cstdlib>
#include <ctime>
#include <memory>

using namespace fleet;

namespace {

int fail(const QString &message)
{
    QTextStream(stderr) << "fleet-console: " << message << '\n';
    return 2;
}

// Stores `secret` in the desktop keychain under `account` (--save-statuspage-key, --save-monitoring-token) and says
// what happened; the exit code. Runs the event loop until the keychain answers.
int keepInKeychain(const QString &account, const QString &secret, const QString &what)
{
    int code = 1;
    tokens::storeInKeychain(account, secret, qApp, [&code](Result<bool> stored) {
        if (stored)
            code = 0;
        else
            QTextStream(stderr) << "fleet-console: " << stored.error() << '\n';
        QApplication::exit(code);
    });
    QApplication::exec();
    if (code == 0)
        QTextStream(stdout) << "fleet-console: " << what << " is in the keychain (" << account << ")\n";
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    // Times are shown in UTC everywhere (people coordinate across regions); Qt Charts' time axis formats in the
    // process's local time zone, so the process runs in UTC.
    qputenv("TZ", "UTC");
    tzset();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("fleet-console"));
    QApplication::setOrganizationName(QStringLiteral("fleet-console"));
    QApplication::setApplicationDisplayName(QStringLiteral("Fleet Console"));
    QApplication::setApplicationVersion(QStringLiteral(FLEET_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("fleet-console"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/fleet-console.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Operations console for a fleet of remote build workers.\n"
        "Without options it opens the last used connection profile, or the connect dialog on first run."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption apiOpt(
        QStringLiteral("api"), QStringLiteral("Fleet API URL, e.g. https://fleet.example.com."), QStringLiteral("url"));
    const QCommandLineOption tokenFileOpt(QStringLiteral("token-file"),
        QStringLiteral("Read the token from FILE (must not be readable by group or others). Default: $FLEET_TOKEN."),
        QStringLiteral("file"));
    const QCommandLineOption profileOpt(QStringLiteral("profile"),
        QStringLiteral("Connect with the saved profile NAME (see File > Connect)."), QStringLiteral("name"));
    const QCommandLineOption caOpt(QStringLiteral("ca-file"),
        QStringLiteral("Also trust the CA certificates in FILE (PEM)."), QStringLiteral("file"));
    const QCommandLineOption insecureOpt(QStringLiteral("insecure"),
        QStringLiteral("Do not verify TLS certificates (development only; the window says INSECURE)."));
    const QCommandLineOption demoOpt(QStringLiteral("demo"),
        QStringLiteral("Start the fleet-sim program installed beside the console on a free loopback port (stopped "
                       "when the console exits) and connect to it as an operator. The scenario is the optional "
                       "argument (default upstream-packet-loss)."));
    const QCommandLineOption demoSpeedOpt(QStringLiteral("demo-speed"),
        QStringLiteral("Simulated seconds per real second in the demo (default 120: the incident unfolds in "
                       "minutes)."),
        QStringLiteral("x"), QStringLiteral("120"));
    const QCommandLineOption demoWorkersOpt(QStringLiteral("demo-workers"),
        QStringLiteral("Scale the demo fleet to N workers (default: as the scenario says)."), QStringLiteral("n"),
        QStringLiteral("0"));
    const QCommandLineOption themeOpt(
        QStringLiteral("theme"), QStringLiteral("dark (default) or light."), QStringLiteral("name"));
    const QCommandLineOption screenshotOpt(QStringLiteral("screenshot"),
        QStringLiteral("Write the window as PNG to FILE after --after seconds, then exit."), QStringLiteral("file"));
    const QCommandLineOption afterOpt(QStringLiteral("after"),
        QStringLiteral("Seconds to wait before --screenshot (default 5)."), QStringLiteral("seconds"),
        QStringLiteral("5"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"),
        QStringLiteral("Window size WIDTHxHEIGHT for --screenshot (default 1600x1000)."), QStringLiteral("size"),
        QStringLiteral("1600x1000"));
    const QCommandLineOption pageUrlOpt(QStringLiteral("statuspage-url"),
        QStringLiteral("Status page API base URL with the version (default https://api.statuspage.io/v1)."),
        QStringLiteral("url"), QStringLiteral("https://api.statuspage.io/v1"));
    const QCommandLineOption pageIdOpt(
        QStringLiteral("page-id"), QStringLiteral("Status page id: enables status updates."), QStringLiteral("id"));
    const QCommandLineOption pageKeyFileOpt(QStringLiteral("statuspage-key-file"),
        QStringLiteral("Read the status page API key from this file (else STATUSPAGE_API_KEY, else the keychain)."),
        QStringLiteral("file"));
    const QCommandLineOption saveKeyOpt(QStringLiteral("save-statuspage-key"),
        QStringLiteral("Store the status page API key (from --statuspage-key-file or STATUSPAGE_API_KEY) in the "
                       "desktop keychain for --page-id, then exit."));
    const QCommandLineOption prometheusOpt(QStringLiteral("prometheus"),
        QStringLiteral(
            "The fleet's own Prometheus, e.g. http://127.0.0.1:9090: the charts' history comes from it (from "
            "the Fleet API when it cannot answer). Credentials: PROMETHEUS_TOKEN or "
            "PROMETHEUS_BASIC_AUTH=user:password."),
        QStringLiteral("url"));
    const QCommandLineOption prometheusScrapeOpt(QStringLiteral("prometheus-scrape-interval"),
        QStringLiteral("Prometheus's scrape interval in seconds, the finest step asked (default 15)."),
        QStringLiteral("seconds"), QStringLiteral("15"));
    const QCommandLineOption prometheusQueriesOpt(QStringLiteral("prometheus-queries"),
        QStringLiteral("A JSON file of PromQL per series (docs/fleetctl.md); default: fleet-sim's metrics."),
        QStringLiteral("file"));
    const QCommandLineOption alertmanagerOpt(QStringLiteral("alertmanager"),
        QStringLiteral("The fleet's Alertmanager (any member of its cluster), e.g. http://127.0.0.1:9093: its alerts "
                       "on the region tiles and the chart header. Credentials: ALERTMANAGER_TOKEN or "
                       "ALERTMANAGER_BASIC_AUTH=user:password."),
        QStringLiteral("url"));
    const QCommandLineOption saveMonitoringTokenOpt(QStringLiteral("save-monitoring-token"),
        QStringLiteral("Store PROMETHEUS_TOKEN (for --prometheus) or ALERTMANAGER_TOKEN (for --alertmanager) in the "
                       "desktop keychain for that server's origin, then exit. SERVICE: prometheus or alertmanager."),
        QStringLiteral("service"));
    const QCommandLineOption alertmanagerPollOpt(QStringLiteral("alertmanager-poll"),
        QStringLiteral("Seconds between polls of Alertmanager (default 15); three missed polls mark the alerts stale."),
        QStringLiteral("seconds"), QStringLiteral("15"));
    const QCommandLineOption warRoomOpt(QStringLiteral("war-room"),
        QStringLiteral("Start as the read-only war-room display, full screen (Ctrl+Shift+Q exits)."));
    const QCommandLineOption screenOpt(QStringLiteral("screen"),
        QStringLiteral("With --war-room: the screen to fill, from 0 (default: the primary screen)."),
        QStringLiteral("N"));
    parser.addOptions({ warRoomOpt, screenOpt, prometheusOpt, prometheusScrapeOpt, prometheusQueriesOpt,
        alertmanagerOpt, alertmanagerPollOpt, saveMonitoringTokenOpt });
    const QCommandLineOption replayOpt(QStringLiteral("replay"),
        QStringLiteral("Play a recorded incident (a bundle from the console's record, fleetctl incident export or "
                       "fleetctl record) instead of connecting: nothing can act, nothing is recorded."),
        QStringLiteral("file"));
    const QCommandLineOption replayAtOpt(QStringLiteral("replay-at"),
        QStringLiteral("With --replay: start at this UTC time (2025-11-12T09:30:00Z, or 09:30 on the bundle's first "
                       "day)."),
        QStringLiteral("time"));
    const QCommandLineOption replaySpeedOpt(QStringLiteral("replay-speed"),
        QStringLiteral("With --replay: 1 to 60 times real time, or 0 to start paused (default 1)."),
        QStringLiteral("x"), QStringLiteral("1"));
    parser.addOptions({ replayOpt, replayAtOpt, replaySpeedOpt });
    parser.addOptions({ pageUrlOpt, pageIdOpt, pageKeyFileOpt, saveKeyOpt });
    parser.addOptions({ apiOpt, tokenFileOpt, profileOpt, caOpt, insecureOpt, demoOpt, demoSpeedOpt, demoWorkersOpt,
        themeOpt, screenshotOpt, afterOpt, sizeOpt });
    parser.addPositionalArgument(
        QStringLiteral("scenario"), QStringLiteral("With --demo: the scenario to run."), QStringLiteral("[scenario]"));
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (!positional.isEmpty() && !parser.isSet(demoOpt))
        return fail(
            QStringLiteral("unexpected argument \"%1\" (a scenario name goes with --demo)").arg(positional.first()));
    if (positional.size() > 1)
        return fail(QStringLiteral("--demo takes one scenario, got %1").arg(positional.join(QLatin1Char(' '))));
    if (parser.isSet(demoOpt) && (parser.isSet(apiOpt) || parser.isSet(profileOpt)))
        return fail(QStringLiteral("--demo runs its own simulator; leave out --api and --profile"));
    const bool replaying = parser.isSet(replayOpt);
    if (replaying && (parser.isSet(demoOpt) || parser.isSet(apiOpt) || parser.isSet(profileOpt)))
        return fail(QStringLiteral("--replay plays a recording and connects to nothing; leave out --demo, --api and "
                                   "--profile"));
    if (!replaying && (parser.isSet(replayAtOpt) || parser.isSet(replaySpeedOpt)))
        return fail(QStringLiteral("--replay-at and --replay-speed go with --replay FILE"));

    QSettings settings;
    bool themeOk = true;
    const Theme theme = Theme::byName(parser.isSet(themeOpt)
            ? parser.value(themeOpt)
            : settings.value(QStringLiteral("theme"), QStringLiteral("dark")).toString(),
        &themeOk);
    if (!themeOk && parser.isSet(themeOpt))
        return fail(QStringLiteral("--theme must be dark or light (got \"%1\")").arg(parser.value(themeOpt)));
    theme.apply(&app);

    double after = 5;
    QSize shotSize(1600, 1000);
    if (parser.isSet(screenshotOpt)) {
        bool ok = false;
        after = parser.value(afterOpt).toDouble(&ok);
        if (!ok || after < 0 || after > 3600)
            return fail(QStringLiteral("--after must be a number of seconds from 0 to 3600 (got \"%1\")")
                            .arg(parser.value(afterOpt)));
        const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
        const int w = wh.value(0).toInt(), h = wh.value(1).toInt();
        if (wh.size() != 2 || w < 400 || h < 300 || w > 8000 || h > 8000)
            return fail(QStringLiteral("--size must look like 1600x1000 (got \"%1\")").arg(parser.value(sizeOpt)));
        shotSize = QSize(w, h);
    }

    QScreen *wallScreen = nullptr;
    if (parser.isSet(screenOpt)) {
        if (!parser.isSet(warRoomOpt))
            return fail(QStringLiteral("--screen goes with --war-room"));
        bool ok = false;
        const int n = parser.value(screenOpt).toInt(&ok);
        const QList<QScreen *> screens = QGuiApplication::screens();
        if (!ok || n < 0 || n >= screens.size()) {
            QStringList names;
            for (int i = 0; i < screens.size(); ++i)
                names << QStringLiteral("%1 (%2, %3x%4)")
                             .arg(i)
                             .arg(screens[i]->name())
                             .arg(screens[i]->size().width())
                             .arg(screens[i]->size().height());
            return fail(QStringLiteral("--screen must be one of: %1 (got \"%2\")")
                            .arg(names.join(QStringLiteral(", ")), parser.value(screenOpt)));
        }
        wallScreen = screens[n];
    }

    // The application core outlives the window: the window is one view of it.
    FleetSession session;
    // A replay keeps nothing: no local store, so no record of it and no outbox to publish from.
    if (!replaying)
        if (const Status local = session.openLocalStore(LocalStore::defaultPath()); !local)
            QTextStream(stderr) << "fleet-console: " << local.error() << '\n'; // watching works without it
    // The command line overrides the profile's saved settings for what it names: its status page stays this run's.
    if (parser.isSet(demoOpt))
        session.lockStatusPage(QStringLiteral("--demo"));
    else if (parser.isSet(pageIdOpt))
        session.lockStatusPage(QStringLiteral("--page-id"));
    if (parser.isSet(prometheusOpt)) {
        PrometheusConfig prometheus;
        prometheus.url = QUrl(parser.value(prometheusOpt), QUrl::StrictMode);
        if (const QString problem = prometheus.problem(); !problem.isEmpty())
            return fail(QStringLiteral("--prometheus: ") + problem);
        // From the environment only: never on the command line, where ps and the shell history see it.
        prometheus.bearerToken = qEnvironmentVariable("PROMETHEUS_TOKEN");
        prometheus.basicAuth = qEnvironmentVariable("PROMETHEUS_BASIC_AUTH");
        prometheus.caFile = parser.value(caOpt);
        bool ok = false;
        const int scrape = parser.value(prometheusScrapeOpt).toInt(&ok);
        if (!ok || scrape < 1 || scrape > 3600)
            return fail(QStringLiteral("--prometheus-scrape-interval must be whole seconds from 1 to 3600"));
        PrometheusQueries queries = PrometheusQueries::defaults();
        if (parser.isSet(prometheusQueriesOpt)) {
            auto loaded = PrometheusQueries::load(parser.value(prometheusQueriesOpt));
            if (!loaded)
                return fail(loaded.error());
            queries = loaded.take();
        }
        session.setPrometheus(prometheus, scrape, queries);
    }
    if (parser.isSet(alertmanagerOpt)) {
        AlertmanagerConfig alertmanager;
        alertmanager.url = QUrl(parser.value(alertmanagerOpt), QUrl::StrictMode);
        if (const QString problem = alertmanager.problem(); !problem.isEmpty())
            return fail(QStringLiteral("--alertmanager: ") + problem);
        alertmanager.bearerToken = qEnvironmentVariable("ALERTMANAGER_TOKEN");
        alertmanager.basicAuth = qEnvironmentVariable("ALERTMANAGER_BASIC_AUTH");
        alertmanager.caFile = parser.value(caOpt);
        bool ok = false;
        const int poll = parser.value(alertmanagerPollOpt).toInt(&ok);
        if (!ok || poll < 1 || poll > 3600)
            return fail(QStringLiteral("--alertmanager-poll must be whole seconds from 1 to 3600"));
        session.setAlertmanager(alertmanager, poll);
    }
    if (parser.isSet(saveMonitoringTokenOpt)) {
        const QString service = parser.value(saveMonitoringTokenOpt);
        const bool prometheus = service == QLatin1String("prometheus");
        if (!prometheus && service != QLatin1String("alertmanager"))
            return fail(QStringLiteral("--save-monitoring-token takes prometheus or alertmanager (got \"%1\")")
                            .arg(terminalSafe(service)));
        const QCommandLineOption &urlOpt = prometheus ? prometheusOpt : alertmanagerOpt;
        if (!parser.isSet(urlOpt))
            return fail(QStringLiteral("--save-monitoring-token %1 needs --%1 URL").arg(service));
        const char *variable = prometheus ? "PROMETHEUS_TOKEN" : "ALERTMANAGER_TOKEN";
        const QString token = qEnvironmentVariable(variable);
        if (token.isEmpty())
            return fail(QStringLiteral("set %1 to the token to keep").arg(QLatin1String(variable)));
        const QString account
            = ProfileSettings::monitoringKeychainAccount(service, QUrl(parser.value(urlOpt), QUrl::StrictMode));
        return keepInKeychain(account, token, QStringLiteral("the %1 token").arg(service));
    }
    // The command line's Prometheus and Alertmanager are this run's, and kept with the profile it opens for the next
    // runs (Settings shows and changes them).
    if (parser.isSet(prometheusOpt) || parser.isSet(alertmanagerOpt))
        session.lockMonitoring(
            parser.isSet(prometheusOpt) ? QStringLiteral("--prometheus") : QStringLiteral("--alertmanager"));
    auto keepMonitoring = [&](const QString &profileName) {
        if (profileName.isEmpty() || (!parser.isSet(prometheusOpt) && !parser.isSet(alertmanagerOpt)))
            return;
        ProfileSettings kept = ProfileSettings::load(&settings, profileName);
        if (parser.isSet(prometheusOpt)) {
            kept.prometheusUrl = session.prometheus().url;
            kept.prometheusScrapeSeconds = parser.value(prometheusScrapeOpt).toInt();
        }
        if (parser.isSet(alertmanagerOpt)) {
            kept.alertmanagerUrl = session.alertmanager().url;
            kept.alertmanagerPollSeconds = parser.value(alertmanagerPollOpt).toInt();
        }
        if (kept.problem().isEmpty())
            kept.save(&settings, profileName);
    };
    // The war-room display is a view of its own: no console window is built behind it (the session connects, and the
    // wall says what is missing when it cannot).
    const bool warRoom = parser.isSet(warRoomOpt);
    std::unique_ptr<ConsoleWindow> window;
    std::unique_ptr<WarRoomView> wall;
    if (warRoom) {
        wall = std::make_unique<WarRoomView>(&session);
        QObject::connect(wall.get(), &WarRoomView::exitRequested, &app, &QApplication::quit);
        // The wall alone applies the profile's settings as the console window does (thresholds, its Prometheus and
        // Alertmanager, its status page).
        QObject::connect(&session, &FleetSession::profileChanged, &session, [&session, &settings] {
            if (!session.profile().name.isEmpty())
                session.applySettings(ProfileSettings::load(&settings, session.profile().name));
        });
    } else {
        window = std::make_unique<ConsoleWindow>(&session, &settings);
    }
    QWidget *shown = wall ? static_cast<QWidget *>(wall.get()) : window.get();
    std::unique_ptr<DemoFleet> demo;
    if (replaying) {
        bool ok = false;
        const double speed = parser.value(replaySpeedOpt).toDouble(&ok);
        if (!ok || (speed != 0 && (speed < IncidentReplay::kMinSpeed || speed > IncidentReplay::kMaxSpeed)))
            return fail(QStringLiteral("--replay-speed must be 0 (paused) or from 1 to 60 (got \"%1\")")
                            .arg(parser.value(replaySpeedOpt)));
        const QString path = parser.value(replayOpt);
        auto loaded = IncidentReplay::load(path);
        if (!loaded)
            return fail(loaded.error());
        const qint64 firstMs = loaded->header.fromMs;
        if (const Status started = session.startReplay(loaded.take(), QFileInfo(path).fileName()); !started)
            return fail(started.error());
        IncidentReplay *replay = session.replay();
        if (parser.isSet(replayAtOpt)) {
            const QString at = parser.value(replayAtOpt);
            std::optional<qint64> t = parseIsoUtc(at);
            if (!t) {
                const QTime time
                    = QTime::fromString(at, at.size() > 5 ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
                if (time.isValid())
                    t = QDateTime(QDateTime::fromMSecsSinceEpoch(firstMs, Qt::UTC).date(), time, Qt::UTC)
                            .toMSecsSinceEpoch();
            }
            if (!t || *t < replay->fromMs() || *t > replay->toMs())
                return fail(QStringLiteral("--replay-at must be a time within the recording, %1 to %2 UTC (got \"%3\")")
                                .arg(formatIsoUtc(replay->fromMs() / 1000 * 1000),
                                    formatIsoUtc(replay->toMs() / 1000 * 1000), at));
            replay->seek(*t);
        }
        if (speed > 0) {
            replay->setSpeed(speed);
            replay->play();
        }
    } else if (parser.isSet(demoOpt)) {
        bool ok = false;
        const double speed = parser.value(demoSpeedOpt).toDouble(&ok);
        if (!ok || speed < 0 || speed > 10000)
            return fail(QStringLiteral("--demo-speed must be a number from 0 to 10000"));
        const int workers = parser.value(demoWorkersOpt).toInt(&ok);
        if (!ok || workers < 0 || workers > 200000)
            return fail(QStringLiteral("--demo-workers must be a number from 0 to 200000"));
        DemoFleet::Options o;
        o.scenario = positional.value(0, QStringLiteral("upstream-packet-loss"));
        o.speed = speed;
        o.workers = workers;
        // Start a few minutes before the trouble, so that it begins while you watch.
        if (o.scenario == QLatin1String("upstream-packet-loss"))
            o.warmupSeconds = 2700; // 08:45 UTC; packet loss starts at 08:52
        o.seed = 1;
        o.scriptedOperator = true;
        demo = std::make_unique<DemoFleet>();
        if (const Status started = demo->start(o); !started)
            return fail(QStringLiteral("could not start the demo: %1").arg(started.error()));
        QObject::connect(demo.get(), &DemoFleet::exitedUnexpectedly, &session,
            [](const QString &why) { QTextStream(stderr) << "fleet-console: " << why << '\n'; });
        ConnectionProfile p;
        p.name = QStringLiteral("demo");
        p.url = demo->url();
        if (window)
            window->setDemo(QObject::tr("simulated fleet: %1").arg(demo->description()));
        session.connectTo(p, demo->operatorToken());
        // The simulator serves a status page too: the demo runs from first alert to postmortem.
        StatusPageConfig page;
        page.baseUrl = demo->url().resolved(QUrl(QStringLiteral("/statuspage/v1")));
        page.pageId = QStringLiteral("fleetdemo");
        page.apiKey = QStringLiteral("demo-statuspage-key");
        session.setStatusPage(page);
    } else if (parser.isSet(apiOpt)) {
        ConnectionProfile p;
        const Result<QUrl> url = ProfileStore::validateUrl(parser.value(apiOpt));
        if (!url)
            return fail(url.error());
        p.url = url.value();
        p.name = parser.isSet(profileOpt) ? parser.value(profileOpt) : p.url.host();
        p.caFile = parser.value(caOpt);
        p.insecure = parser.isSet(insecureOpt);
        const Result<QString> token
            = parser.isSet(tokenFileOpt) ? tokens::fromFile(parser.value(tokenFileOpt)) : tokens::fromEnvironment();
        if (!token)
            return fail(token.error());
        keepMonitoring(p.name);
        session.connectTo(p, token.value());
    } else if (parser.isSet(profileOpt) || !ProfileStore(&settings).lastUsed().isEmpty()) {
        ProfileStore profiles(&settings);
        const QString name = parser.isSet(profileOpt) ? parser.value(profileOpt) : profiles.lastUsed();
        const auto p = profiles.profile(name);
        if (!p && parser.isSet(profileOpt))
            return fail(QStringLiteral("no saved profile \"%1\" (File > Connect saves profiles)").arg(name));
        if (p) {
            keepMonitoring(p->name);
            session.connectToProfile(*p); // its token as the profile says; the showing view asks when it cannot
        } else if (window)
            QTimer::singleShot(0, window.get(), [w = window.get()] { w->openConnectDialog(); });
    } else if (!parser.isSet(screenshotOpt) && window && !replaying) {
        QTimer::singleShot(0, window.get(), [w = window.get()] { w->openConnectDialog(); }); // first run
    }

    if (parser.isSet(saveKeyOpt)) {
        if (!parser.isSet(pageIdOpt))
            return fail(QStringLiteral("--save-statuspage-key needs --page-id"));
        const Result<QString> key = tokens::statusPageKey(parser.value(pageKeyFileOpt));
        if (!key)
            return fail(key.error());
        return keepInKeychain(QStringLiteral("statuspage/") + parser.value(pageIdOpt), key.value(),
            QStringLiteral("the status page API key"));
    }
    if (parser.isSet(pageIdOpt) && !parser.isSet(demoOpt)) {
        StatusPageConfig page;
        page.baseUrl = QUrl(parser.value(pageUrlOpt), QUrl::StrictMode);
        page.pageId = parser.value(pageIdOpt);
        page.apiKey = QStringLiteral("-"); // checked below, once the key is read
        if (const QString problem = page.problem(); !problem.isEmpty())
            return fail(problem);
        // The key: a key file, else STATUSPAGE_API_KEY, else the desktop keychain (account "statuspage/<page id>").
        const Result<QString> key = tokens::statusPageKey(parser.value(pageKeyFileOpt));
        if (key) {
            page.apiKey = key.value();
            session.setStatusPage(page);
        } else if (parser.isSet(pageKeyFileOpt)) {
            return fail(key.error());
        } else {
            tokens::fromKeychain(
                QStringLiteral("statuspage/") + page.pageId, &session, [&session, page](Result<QString> r) {
                    StatusPageConfig found = page;
                    if (r) {
                        found.apiKey = r.value();
                    } else {
                        found.apiKey.clear(); // the composer says what is missing
                        QTextStream(stderr) << "fleet-console: no status page API key (STATUSPAGE_API_KEY, "
                                               "--statuspage-key-file, or the keychain): "
                                            << r.error() << '\n';
                    }
                    session.setStatusPage(found);
                });
        }
    }

    if (parser.isSet(screenshotOpt)) {
        shown->resize(shotSize);
        const QString file = parser.value(screenshotOpt);
        // The war-room display on a real X server (xvfb-run): the whole screen, as the room sees it.
        const bool wholeScreen = wall && QGuiApplication::platformName() != QLatin1String("offscreen");
        QTimer::singleShot(int(after * 1000), shown, [shown, file, wholeScreen] {
            const QImage image
                = wholeScreen && shown->screen() ? shown->screen()->grabWindow(0).toImage() : shown->grab().toImage();
            if (image.isNull() || !image.save(file, "PNG")) {
                QTextStream(stderr) << "fleet-console: could not write the screenshot to " << file << '\n';
                QApplication::exit(1);
                return;
            }
            QTextStream(stdout) << "fleet-console: wrote " << file << " (" << image.width() << "x" << image.height()
                                << ")\n";
            QApplication::exit(0);
        });
    } else if (window) {
        window->restoreLayout();
    }
    if (wall && (!parser.isSet(screenshotOpt) || QGuiApplication::platformName() != QLatin1String("offscreen")))
        wall->showOnScreen(wallScreen);
    else
        shown->show();
    return QApplication::exec();
}
