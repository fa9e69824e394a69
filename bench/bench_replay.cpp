// Incident bundles (issue #24, "Measured"):
//  1. A 12-hour bundle of the seed incident (fleet-sim's simulation of 08:00-20:00, six regions, every second, the
//     way the console's record and fleetctl record write it): its size, and the time from opening the file to the
//     replay's first frame on screen (read and check the file, start the replay, the window painted), over --runs
//     runs. The goal: under 1 s.
//  2. Store growth: the same bundle's health as the local store keeps it (compressed lines per region and minute),
//     per fleet hour.
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_replay [--runs 5] [--hours 12]

#include "benchutil.h"
#include "consolewindow.h"
#include "fleetsession.h"
#include "healthtimeline.h"
#include "incidentbundle.h"
#include "incidentmetrics.h"
#include "incidentreplay.h"
#include "scenario.h"
#include "simulation.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <cmath>

using namespace fleet;

namespace {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int runs = std::max(1,
        args.contains(QStringLiteral("--runs")) ? args.value(args.indexOf(QStringLiteral("--runs")) + 1).toInt() : 5);
    const int hours = std::clamp(
        args.contains(QStringLiteral("--hours")) ? args.value(args.indexOf(QStringLiteral("--hours")) + 1).toInt() : 12,
        1, 23);

    // 1. The seed incident, simulated second by second for `hours` from 08:00.
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
    if (!scenario) {
        out() << "bench_replay: " << scenario.error() << Qt::endl;
        return 1;
    }
    sim::SimulationOptions options;
    options.seed = 7;
    sim::Simulation simulation(*scenario, options);
    QElapsedTimer clock;
    clock.start();
    const qint64 start = simulation.now() / 1000;
    simulation.advance(hours * 3600);
    const qint64 end = simulation.now() / 1000 - 1;
    out() << "simulated " << hours << " h of the seed incident in " << clock.elapsed() << " ms" << Qt::endl;

    bundle::Bundle b;
    b.header.fleet = QStringLiteral("http://127.0.0.1:8080");
    b.header.title = QStringLiteral("bench_replay: %1 h of upstream-packet-loss").arg(hours);
    b.header.recordedBy = QStringLiteral("bench_replay");
    b.header.fromMs = start * 1000;
    b.header.toMs = end * 1000;
    b.header.thresholds = thresholdMap(VerdictThresholds {});
    HealthTimeline history(86400);
    for (int r = 0; r < simulation.regionCount(); ++r) {
        b.header.regions << simulation.region(r);
        for (const HealthSample &s : simulation.health(r, start * 1000, (end + 1) * 1000, 1))
            history.record(simulation.region(r).id, s);
    }
    qint64 storeBytes = 0;
    const QStringList regionIds = history.regions();
    for (qint64 s = start; s <= end; s += 60) {
        for (int r = 0; r < regionIds.size(); ++r) {
            bundle::Samples block;
            block.region = regionIds[r];
            block.fromSecond = s;
            for (int c = 0; c < bundle::kColumnCount; ++c)
                history.series(r, HealthTimeline::Metric(c), s, std::min(s + 59, end), &block.columns[std::size_t(c)]);
            storeBytes += qCompress(bundle::encodeSamples(block)).size();
            b.samples << block;
        }
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("12h.jsonl"));
    {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return 1;
        f.write(bundle::encodeHeader(b.header) + '\n');
        for (const bundle::Samples &s : std::as_const(b.samples))
            f.write(bundle::encodeSamples(s) + '\n');
    }
    const double fileMb = double(QFileInfo(path).size()) / (1 << 20);
    out() << "bundle: " << hours << " h x " << b.header.regions.size() << " regions, " << b.samples.size()
          << " blocks of a minute, " << QString::number(fileMb, 'f', 1) << " MB" << Qt::endl;
    out() << "store growth (compressed, as the local store keeps health around trouble): "
          << QString::number(double(storeBytes) / (1 << 20) / hours, 'f', 2) << " MB per fleet hour for "
          << b.header.regions.size() << " regions" << Qt::endl;

    // 2. Open -> first frame on screen.
    QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    std::vector<double> loadMs;
    std::vector<double> startMs;
    std::vector<double> frameMs;
    std::vector<double> totalMs;
    for (int run = 0; run < runs; ++run) {
        QElapsedTimer t;
        t.start();
        auto loaded = IncidentReplay::load(path);
        if (!loaded) {
            out() << "bench_replay: " << loaded.error() << Qt::endl;
            return 1;
        }
        const double load = double(t.nsecsElapsed()) / 1e6;
        auto *session = new FleetSession;
        if (!session->startReplay(loaded.take(), QStringLiteral("12h.jsonl")))
            return 1;
        const double started = double(t.nsecsElapsed()) / 1e6;
        auto *window = new ConsoleWindow(session, &settings);
        window->setDesktopPresence(false);
        window->resize(1920, 1080);
        window->show();
        session->replay()->play();
        QCoreApplication::processEvents();
        const QImage frame = window->grab().toImage(); // painted: the first frame
        const double shown = double(t.nsecsElapsed()) / 1e6;
        if (frame.isNull())
            return 1;
        loadMs.push_back(load);
        startMs.push_back(started - load);
        frameMs.push_back(shown - started);
        totalMs.push_back(shown);
        out() << "run " << run + 1 << ": read and check " << QString::number(load, 'f', 0) << " ms, start "
              << QString::number(started - load, 'f', 0) << " ms, window painted "
              << QString::number(shown - started, 'f', 0) << " ms: first frame after " << QString::number(shown, 'f', 0)
              << " ms" << Qt::endl;
        if (run == 0) {
            // The other end: the whole 12 hours into the charts at once (a move to the last second).
            QElapsedTimer seek;
            seek.start();
            session->replay()->seek(session->replay()->toMs());
            QCoreApplication::processEvents();
            (void)window->grab();
            out() << "move to the last second (12 h into the store) and paint: " << seek.elapsed() << " ms" << Qt::endl;
        }
        delete window;
        delete session;
    }
    out() << "open -> first frame, median of " << runs << ": " << QString::number(median(totalMs), 'f', 0)
          << " ms (read and check " << QString::number(median(loadMs), 'f', 0) << ", start "
          << QString::number(median(startMs), 'f', 0) << ", paint " << QString::number(median(frameMs), 'f', 0)
          << "); max " << QString::number(*std::max_element(totalMs.begin(), totalMs.end()), 'f', 0)
          << " ms; goal < 1000 ms; RSS " << QString::number(rssMb(), 'f', 0) << " MB" << Qt::endl;
    return 0;
}
