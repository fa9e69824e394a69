// The fleet's own monitoring (issue #23), against real Prometheus 2.42 and Alertmanager 0.25 (Debian's; the bench
// says "skipped" and why where they are not installed):
//  1. 24 h of six regions' five series from Prometheus into the charts, from a cold start: fleet-sim runs the seed
//     scenario's last 24 h on the wall clock and writes them as OpenMetrics (--openmetrics-history), promtool turns
//     them into TSDB blocks, Prometheus starts on them and scrapes fleet-sim from then on; a console session connects
//     and its history loader fills the charts' timeline from Prometheus. Timed from connectTo to the loader's last
//     chunk; the number of requests and that every region's earliest hour arrived are printed.
//  2. A zoom sweep from 1 h to 30 d at 1920 px: the step of each range (PrometheusClient::stepFor) and whether
//     Prometheus refused any query for its resolution (it must not).
//  3. Alert fired in Alertmanager -> shown: alerts posted as Prometheus posts them, at random moments, and the time
//     until the console's AlertWatch (polling every --poll s) has them. The goal: p99 under one poll interval + 1 s.
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_monitoring [--alerts 40] [--poll 2]

#include "alertwatch.h"
#include "benchutil.h"
#include "consolewindow.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "historyloader.h"
#include "isotime.h"
#include "prometheus.h"
#include "prometheushistory.h"
#include "theme.h"

#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace fleet;

namespace {

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// Runs the event loop until `done()` (checked every 5 ms, without spinning: the CPU is the console's and the
// servers') or `ms` pass; false on the timeout.
bool waitFor(const std::function<bool()> &done, int ms)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer check;
    check.setInterval(5);
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    check.start();
    loop.exec();
    return done();
}

QByteArray httpGet(QNetworkAccessManager &nam, const QUrl &url, int *status = nullptr)
{
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(url)));
    waitFor([&] { return reply->isFinished(); }, 10000);
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return reply->isFinished() && reply->error() == QNetworkReply::NoError ? reply->readAll() : QByteArray();
}

bool httpPost(QNetworkAccessManager &nam, const QUrl &url, const QByteArray &json)
{
    QNetworkRequest r(url);
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(nam.post(r, json));
    waitFor([&] { return reply->isFinished(); }, 10000);
    return reply->isFinished() && reply->error() == QNetworkReply::NoError;
}

struct Process
{
    QProcess process;
    ~Process()
    {
        process.kill();
        process.waitForFinished(5000);
    }
};

double percentile(QList<double> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min<qsizetype>(v.size() - 1, qsizetype(p * double(v.size() - 1) + 0.5))];
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("TZ", "UTC");
    QApplication app(argc, argv);
    int alerts = 40;
    int poll = 2;
    for (int i = 1; i + 1 < argc; ++i) {
        if (qstrcmp(argv[i], "--alerts") == 0)
            alerts = std::max(1, atoi(argv[i + 1]));
        else if (qstrcmp(argv[i], "--poll") == 0)
            poll = std::max(1, atoi(argv[i + 1]));
    }
    const QString prometheus = QStandardPaths::findExecutable(QStringLiteral("prometheus"));
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    const QString alertmanager = QStandardPaths::findExecutable(QStringLiteral("prometheus-alertmanager"));
    if (prometheus.isEmpty() || promtool.isEmpty() || alertmanager.isEmpty()) {
        std::printf("bench_monitoring: skipped: prometheus, promtool or prometheus-alertmanager is not installed "
                    "(scripts/install-deps installs Debian's)\n");
        return 0;
    }
    Theme::dark().apply(&app);
    QTemporaryDir dir;
    QNetworkAccessManager nam;

    // --- 1. 24 h from Prometheus into the charts, from a cold start -------------------------------------------
    Process sim;
    QElapsedTimer step;
    step.start();
    sim.process.setProcessChannelMode(QProcess::MergedChannels);
    const QString history = dir.filePath(QStringLiteral("history.om"));
    sim.process.start(QStringLiteral(FLEET_SIM_BINARY),
        { QStringLiteral("--scenario"), QStringLiteral("upstream-packet-loss"), QStringLiteral("--port"),
            QString::number(freePort()), QStringLiteral("--start-now"), QStringLiteral("--warmup"),
            QStringLiteral("86400"), QStringLiteral("--speed"), QStringLiteral("1"),
            QStringLiteral("--openmetrics-history"), history, QStringLiteral("--openmetrics-step"),
            QStringLiteral("15") });
    QByteArray simOut;
    QUrl simUrl;
    waitFor(
        [&] {
            simOut += sim.process.readAll();
            const auto m
                = QRegularExpression(QStringLiteral("listening on (http://\\S+)")).match(QString::fromUtf8(simOut));
            if (m.hasMatch())
                simUrl = QUrl(m.captured(1));
            return simUrl.isValid() || sim.process.state() == QProcess::NotRunning;
        },
        120000);
    if (!simUrl.isValid()) {
        std::fprintf(stderr, "bench_monitoring: fleet-sim did not start: %s\n", simOut.constData());
        return 1;
    }
    std::printf("fleet-sim: the scenario's last 24 h written as OpenMetrics in %lld ms (%.1f MB)\n",
        qint64(step.elapsed()), double(QFile(history).size()) / 1e6);

    step.restart();
    QProcess tool;
    tool.setProcessChannelMode(QProcess::MergedChannels);
    tool.start(promtool,
        { QStringLiteral("tsdb"), QStringLiteral("create-blocks-from"), QStringLiteral("openmetrics"), history,
            dir.filePath(QStringLiteral("tsdb")) });
    if (!tool.waitForFinished(600000) || tool.exitCode() != 0) {
        std::fprintf(stderr, "bench_monitoring: promtool failed: %s\n", tool.readAll().constData());
        return 1;
    }
    std::printf("promtool: TSDB blocks made in %lld ms\n", qint64(step.elapsed()));

    QFile config(dir.filePath(QStringLiteral("prometheus.yml")));
    config.open(QIODevice::WriteOnly);
    config.write(QStringLiteral("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: fleet\n"
                                "    authorization:\n      credentials: view-secret\n    static_configs:\n"
                                "      - targets: ['%1:%2']\n")
                     .arg(simUrl.host())
                     .arg(simUrl.port())
                     .toUtf8());
    config.close();
    const quint16 promPort = freePort();
    Process prom;
    prom.process.setProcessChannelMode(QProcess::MergedChannels);
    prom.process.start(prometheus,
        { QStringLiteral("--config.file=") + config.fileName(),
            QStringLiteral("--storage.tsdb.path=") + dir.filePath(QStringLiteral("tsdb")),
            QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(promPort), QStringLiteral("--log.level=warn") });
    const QUrl promUrl(QStringLiteral("http://127.0.0.1:%1").arg(promPort));
    step.restart();
    if (!waitFor(
            [&] {
                int status = 0;
                httpGet(nam, QUrl(promUrl.toString() + QStringLiteral("/-/ready")), &status);
                return status == 200;
            },
            120000)) {
        std::fprintf(stderr, "bench_monitoring: Prometheus not ready: %s\n", prom.process.readAll().constData());
        return 1;
    }
    std::printf("prometheus: ready on the 24 h blocks in %lld ms\n", qint64(step.elapsed()));

    {
        QSettings settings(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
        FleetSession session;
        PrometheusConfig pc;
        pc.url = promUrl;
        session.setPrometheus(pc, 15, PrometheusQueries::defaults());
        ConsoleWindow window(&session, &settings);
        window.resize(1920, 1080);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("bench");
        profile.url = simUrl;
        QElapsedTimer t;
        t.start();
        session.connectTo(profile, QStringLiteral("view-secret"));
        int chunks = 0;
        int total = 0;
        qint64 loadedMs = -1;
        qint64 snapshotMs = -1;
        bool started = false;
        waitFor(
            [&] {
                if (snapshotMs < 0 && session.store()->isLoaded())
                    snapshotMs = t.elapsed();
                HistoryLoader *loader = session.historyLoader();
                if (!loader)
                    return false;
                if (!started) {
                    started = true;
                    QObject::connect(loader, &HistoryLoader::progress, loader, [&](int done, int all) {
                        chunks = done;
                        total = all;
                    });
                    QObject::connect(loader, &HistoryLoader::finished, loader,
                        [&] { loadedMs = loadedMs < 0 ? t.elapsed() : loadedMs; });
                }
                return loadedMs >= 0;
            },
            120000);
        const qint64 firstFrameStart = t.elapsed();
        window.grab();
        const qint64 frame = t.elapsed() - firstFrameStart;
        HistoryLoader *loader = session.historyLoader();
        std::printf(
            "24 h x %d regions x 5 series from Prometheus into the charts, cold: %lld ms to the last chunk "
            "(the fleet's first snapshot at %lld ms; %d of %d chunks, %d failed); then one 1920x1080 frame %lld ms; "
            "source: %s\n",
            int(session.store()->regions().size()), loadedMs, snapshotMs, chunks, total,
            loader ? loader->failures() : -1, frame, loader ? qPrintable(loader->note()) : "(no loader)");
    }

    // --- 2. Zoom sweep, 1 h to 30 d at 1920 px ------------------------------------------------------------------
    {
        PrometheusConfig pc;
        pc.url = promUrl;
        PrometheusClient client(pc);
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const PrometheusQueries queries = PrometheusQueries::defaults();
        int refused = 0;
        std::printf("zoom sweep (5 queries of one region per range, 1920 px):");
        for (const qint64 range : { 3600LL, 6 * 3600LL, 86400LL, 7 * 86400LL, 30 * 86400LL }) {
            const int stepSeconds = PrometheusClient::stepFor(range, 1920, 15);
            QElapsedTimer t;
            t.start();
            int answered = 0;
            int points = 0;
            const QStringList all { queries.packetLoss, queries.rttP95, queries.failures, queries.workers,
                queries.queueDepth };
            for (const QString &q : all) {
                client.queryRange(PrometheusQueries::expand(q, QStringLiteral("eu-central"), std::max(60, stepSeconds)),
                    now - range, now, stepSeconds, &client, [&](ApiResult<PromMatrix> r) {
                        ++answered;
                        if (!r.ok()) {
                            ++refused;
                            std::printf("\n  refused: %s", qPrintable(r.error().message));
                            return;
                        }
                        for (const PromSeries &s : r->series)
                            points += int(s.points.size());
                    });
            }
            waitFor([&] { return answered == int(all.size()); }, 60000);
            std::printf(" %s step %d s (%d points, %lld ms);",
                qPrintable(range < 86400 ? QStringLiteral("%1 h").arg(range / 3600)
                                         : QStringLiteral("%1 d").arg(range / 86400)),
                stepSeconds, points, qint64(t.elapsed()));
        }
        std::printf("\n  queries refused for their resolution: %d\n", refused);
    }

    // --- 3. Alert fired in Alertmanager -> shown ------------------------------------------------------------------
    {
        QFile amConfig(dir.filePath(QStringLiteral("alertmanager.yml")));
        amConfig.open(QIODevice::WriteOnly);
        amConfig.write("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n");
        amConfig.close();
        const quint16 amPort = freePort();
        Process am;
        am.process.setProcessChannelMode(QProcess::MergedChannels);
        am.process.start(alertmanager,
            { QStringLiteral("--config.file=") + amConfig.fileName(),
                QStringLiteral("--storage.path=") + dir.filePath(QStringLiteral("am")),
                QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(amPort),
                QStringLiteral("--cluster.listen-address="), QStringLiteral("--log.level=warn") });
        const QUrl amUrl(QStringLiteral("http://127.0.0.1:%1").arg(amPort));
        if (!waitFor([&] { return !httpGet(nam, QUrl(amUrl.toString() + QStringLiteral("/api/v2/status"))).isEmpty(); },
                60000)) {
            std::fprintf(stderr, "bench_monitoring: Alertmanager not ready: %s\n", am.process.readAll().constData());
            return 1;
        }
        AlertmanagerConfig ac;
        ac.url = amUrl;
        AlertWatch watch(ac, poll);
        QHash<QString, qint64> firedAt; // alert name -> when the POST returned (ms, monotonic)
        QList<double> latencies;
        QElapsedTimer clock;
        clock.start();
        QObject::connect(&watch, &AlertWatch::changed, &watch, [&] {
            for (const AmAlert &a : watch.alerts()) {
                const auto it = firedAt.find(a.name());
                if (it != firedAt.end() && it.value() >= 0) {
                    latencies << double(clock.elapsed() - it.value());
                    it.value() = -1;
                }
            }
        });
        for (int i = 0; i < alerts; ++i) {
            // At a random moment of the poll cycle.
            const int pause = QRandomGenerator::global()->bounded(poll * 1000);
            waitFor([] { return false; }, pause);
            const QString name = QStringLiteral("BenchAlert%1").arg(i);
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            const QJsonArray body { QJsonObject {
                { QStringLiteral("labels"),
                    QJsonObject { { QStringLiteral("alertname"), name },
                        { QStringLiteral("region"), QStringLiteral("eu-central") } } },
                { QStringLiteral("startsAt"), formatIsoUtc(now) },
                { QStringLiteral("endsAt"), formatIsoUtc(now + 600000) } } };
            if (!httpPost(nam, QUrl(amUrl.toString() + QStringLiteral("/api/v2/alerts")),
                    QJsonDocument(body).toJson(QJsonDocument::Compact))) {
                std::fprintf(stderr, "bench_monitoring: Alertmanager refused an alert\n");
                return 1;
            }
            firedAt.insert(name, clock.elapsed());
        }
        waitFor([&] { return latencies.size() == alerts; }, (poll + 5) * 1000);
        std::printf("alert fired in Alertmanager -> shown (AlertWatch polling every %d s, %d alerts at random "
                    "moments): p50 %.0f ms, p99 %.0f ms, max %.0f ms; %lld never shown; goal p99 < %d ms\n",
            poll, alerts, percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0),
            qint64(alerts - latencies.size()), poll * 1000 + 1000);
    }
    return 0;
}
