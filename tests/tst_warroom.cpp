// The war-room display and desktop notifications, offscreen against fleet-sim over loopback HTTP: the wall has no
// enabled action and ignores stray keys and the window manager's close, the exit chord closes it; a degraded region
// comes forward with its charts large and lines 3 px at 4K; the veil over the whole screen appears when fleet-sim
// stops and clears when it is back; the status page's incident shows; nothing grows over an hour of fleet time.
// Notifications go to a notification server of our own on a private D-Bus session bus: exactly one per verdict
// change, folded when a region flaps, escaped markup, a click that opens the region, kinds that can be turned off.

#include "actioncontroller.h"
#include "actionregistry.h"
#include "consolewindow.h"
#include "currentincident.h"
#include "desktopnotifier.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthchart.h"
#include "healthmonitor.h"
#include "incidentsteps.h"
#include "privatebus.h"
#include "profilesettings.h"
#include "regionorder.h"
#include "simharness.h"
#include "statusoutbox.h"
#include "traystatus.h"
#include "warroomview.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QLabel>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWindow>
#include <QtTest/qtestspontaneevent.h>

using namespace fleet;

namespace {

bool ready(const FleetSession &session)
{
    return session.isLive() && session.store()->isLoaded();
}

// The series colour's pixels in one column of a chart image: how thick the line is drawn.
int lineThickness(const QImage &image, int x, const QColor &colour)
{
    int best = 0;
    int run = 0;
    for (int y = 0; y < image.height(); ++y) {
        const QColor c = image.pixelColor(x, y);
        const bool near = std::abs(c.red() - colour.red()) + std::abs(c.green() - colour.green())
                + std::abs(c.blue() - colour.blue())
            < 90;
        run = near ? run + 1 : 0;
        best = std::max(best, run);
    }
    return best;
}

} // namespace

// A notification server of our own (org.freedesktop.Notifications), on its own connection to the private bus.
class NotificationServer : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")

public:
    struct Received
    {
        uint id;
        uint replaces;
        QString summary;
        QString body;
        QStringList actions;
        int urgency;
    };
    QList<Received> received;
    uint nextId = 1;

public Q_SLOTS:
    QStringList GetCapabilities()
    {
        return { QStringLiteral("body"), QStringLiteral("body-markup"), QStringLiteral("actions") };
    }
    uint Notify(const QString &app, uint replaces, const QString &icon, const QString &summary, const QString &body,
        const QStringList &actions, const QVariantMap &hints, int timeout)
    {
        Q_UNUSED(app);
        Q_UNUSED(icon);
        Q_UNUSED(timeout);
        const uint id = replaces ? replaces : nextId++;
        received.append({ id, replaces, summary, body, actions, hints.value(QStringLiteral("urgency")).toInt() });
        return id;
    }
};

class TestWarRoom : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readOnlyAndTheExitChord();
    void aWallAloneConnectsAndSaysWhatIsMissing();
    void degradedRegionComesForward();
    void staleVeilComesAndGoes();
    void incidentFromTheStatusPage();
    void nothingGrowsOverAnHour();
    void notificationsOncePerVerdictChange();
};

void TestWarRoom::readOnlyAndTheExitChord()
{
    SimHarness sim;
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    FleetSession session;
    ConsoleWindow window(&session, &settings);
    window.show();
    session.connectTo(sim.profile(), QStringLiteral("op-secret")); // an operator's token: the wall still cannot act
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);

    // Opened from the normal window's View menu (a registered action), on the same session.
    QAction *open = window.actions()->action(QStringLiteral("view.warRoom"));
    QVERIFY(open);
    open->trigger();
    WarRoomView *wall = window.warRoom();
    QVERIFY(wall);
    QVERIFY(QTest::qWaitForWindowExposed(wall));
    QVERIFY(QTest::qWaitForWindowActive(wall)); // on the wall it has the keyboard: keys go to it, not the console
    QTRY_VERIFY(!wall->regionOrder().isEmpty());

    // No enabled action anywhere in it (the charts' own pause/zoom/pan ones included), nothing takes focus or a click.
    const QList<QAction *> actions = wall->findChildren<QAction *>();
    QVERIFY(!actions.isEmpty()); // the charts' time-window actions exist...
    for (QAction *a : actions)
        QVERIFY2(!a->isEnabled(), qPrintable(a->text())); // ...and are all disabled
    for (QWidget *w : wall->findChildren<QWidget *>()) {
        QCOMPARE(w->focusPolicy(), Qt::NoFocus);
        QVERIFY(w->testAttribute(Qt::WA_TransparentForMouseEvents));
    }

    // Stray keys, including the console's own shortcuts (provision, drain, status update, quit) and clicks, do nothing.
    const int topLevels = int(QApplication::topLevelWidgets().size());
    for (const QKeyCombination k :
        { QKeyCombination(Qt::Key_Space), QKeyCombination(Qt::Key_Return), QKeyCombination(Qt::Key_Escape),
            QKeyCombination(Qt::CTRL | Qt::SHIFT, Qt::Key_P), QKeyCombination(Qt::CTRL | Qt::SHIFT, Qt::Key_D),
            QKeyCombination(Qt::CTRL | Qt::SHIFT, Qt::Key_S), QKeyCombination(Qt::CTRL, Qt::Key_Q),
            QKeyCombination(Qt::CTRL, Qt::Key_W), QKeyCombination(Qt::Key_F11), QKeyCombination(Qt::ALT, Qt::Key_F4) })
        QTest::keyClick(wall, k.key(), k.keyboardModifiers());
    QTest::mouseClick(wall, Qt::LeftButton, {}, wall->rect().center());
    QTest::mouseClick(wall, Qt::RightButton, {}, wall->rect().center());
    QTest::qWait(200);
    QVERIFY(wall->isVisible());
    QVERIFY(!window.actionDialog());
    QVERIFY(!window.statusDialog());
    QVERIFY(session.actions()->tracked().isEmpty());
    QCOMPARE(int(QApplication::topLevelWidgets().size()), topLevels);

    // The window manager's close (Alt+F4, a title bar's button: a spontaneous close event) is refused.
    QCloseEvent fromTheWindowManager;
    QSpontaneKeyEvent::setSpontaneous(&fromTheWindowManager);
    QApplication::instance()->notify(wall, &fromTheWindowManager); // as QTest delivers its spontaneous events
    QVERIFY(!fromTheWindowManager.isAccepted());
    QTest::qWait(100);
    QVERIFY(wall->isVisible());

    // The documented chord closes it; the console stays.
    QPointer<WarRoomView> guard = wall;
    QSignalSpy exit(wall, &WarRoomView::exitRequested);
    QTest::keyClick(wall, Qt::Key_Q, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(exit.count(), 1);
    QTRY_VERIFY(!guard);
    QVERIFY(window.isVisible());
}

void TestWarRoom::aWallAloneConnectsAndSaysWhatIsMissing()
{
    // fleet-console --war-room builds no console window: the session connects, and when the profile's token cannot
    // be had, the wall (the view showing) says so on the screen instead of a dialog nobody at the wall would answer.
    SimHarness sim;
    QTemporaryDir dir;
    FleetSession session;
    WarRoomView wall(&session);
    wall.resize(1920, 1080);
    wall.show();
    ConnectionProfile noToken = sim.profile();
    noToken.name = QStringLiteral("wall-profile");
    noToken.tokenFrom = ConnectionProfile::TokenFrom::File;
    noToken.tokenFile = dir.filePath(QStringLiteral("absent-token"));
    session.connectToProfile(noToken);
    QTRY_VERIFY2(
        wall.staleText().contains(QLatin1String("Cannot connect to wall-profile")), qPrintable(wall.staleText()));
    QVERIFY2(wall.staleText().contains(QLatin1String("absent-token")), qPrintable(wall.staleText()));
    QVERIFY2(wall.staleText().contains(QLatin1String("FLEET_TOKEN")), qPrintable(wall.staleText()));
    QVERIFY(wall.findChildren<ConsoleWindow *>().isEmpty());
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(wall.staleText().isEmpty(), 15000); // live: no veil
}

void TestWarRoom::degradedRegionComesForward()
{
    SimHarness sim;
    FleetSession session;
    WarRoomView wall(&session);
    wall.resize(1920, 1080);
    wall.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wall));
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);
    QTRY_COMPARE(wall.regionOrder().size(), 6);
    QVERIFY(wall.featuredRegions().isEmpty()); // 08:45: all healthy, all the same size
    QTRY_VERIFY(wall.clockText().endsWith(QLatin1String("UTC")));

    TrayStatus tray(&session, nullptr); // no system tray offscreen: the verdict and tooltip it would show
    QVERIFY(tray.worst() != Verdict::Degraded && tray.worst() != Verdict::Down);
    toTheIncident(sim, session);
    QTRY_COMPARE(wall.regionOrder().value(0), QStringLiteral("eu-central"));
    // One "worst first" for every view (issue #22): the wall shows the session's order, the tray its first region.
    QCOMPARE(wall.regionOrder(), session.regionOrder()->ids());
    QVERIFY(tray.worst() == session.healthMonitor()->verdict(QStringLiteral("eu-central")));
    QVERIFY2(tray.toolTip().contains(QLatin1String("EU Central")), qPrintable(tray.toolTip()));
    QVERIFY(wall.featuredRegions().contains(QStringLiteral("eu-central")));
    for (const QString &id : wall.featuredRegions()) {
        const Verdict v = session.healthMonitor()->verdict(id);
        QVERIFY(v == Verdict::Degraded || v == Verdict::Down);
    }
    // One definition of the series and of the threshold lines for every view (issue #22, item 3): the wall draws the
    // console's series and the session's thresholds, and follows them when they change (Settings).
    const auto lossCharts = [&wall] {
        QList<HealthChart *> out;
        for (HealthChart *chart : wall.charts())
            if (chart->title() == QLatin1String("Packet loss"))
                out << chart;
        return out;
    };
    QVERIFY(!lossCharts().isEmpty());
    for (HealthChart *chart : lossCharts()) {
        QCOMPARE(chart->series().size(), 1);
        QCOMPARE(chart->series().first().metric, packetLossSeries().first().metric);
        QCOMPARE(chart->series().first().scale, 100.0);
        QCOMPARE(chart->thresholds().first().value, 5.0);
    }
    VerdictThresholds strict = session.healthMonitor()->thresholds();
    strict.degradedPacketLoss = 0.02;
    session.healthMonitor()->setThresholds(strict);
    for (HealthChart *chart : lossCharts())
        QCOMPARE(chart->thresholds().first().value, 2.0);
    session.healthMonitor()->setThresholds(VerdictThresholds {});

    // Its charts are larger than any healthy region's, and it shows failures as well as loss.
    QList<HealthChart *> charts = wall.charts();
    QVERIFY(charts.size() > 6);
    QWidget *big = charts.first();
    QWidget *small = charts.last();
    QTRY_VERIFY(big->height() > small->height() || big->width() > 1.5 * small->width());

    // Lines follow the screen: 2 px at 1080 lines, 3 px at 4K, and really drawn that thick.
    QCOMPARE(wall.lineWidth(), 2);
    wall.resize(3840, 2160);
    QTRY_COMPARE(wall.lineWidth(), 3);
    wall.refreshNow();
    for (HealthChart *chart : wall.charts())
        QCOMPARE(chart->lineWidth(), 3);
    HealthChart *loss = wall.charts().last(); // a healthy region's packet loss: a flat line near the bottom
    QTRY_VERIFY(loss->finitePointCount(0) > 0);
    const QImage image = loss->renderImage();
    const QColor colour = Theme::current().series[0];
    QVERIFY2(lineThickness(image, image.width() / 2, colour) >= 3,
        qPrintable(QString::number(lineThickness(image, image.width() / 2, colour))));
    loss->setLineWidth(1);
    loss->refresh();
    const QImage thin = loss->renderImage();
    QVERIFY(lineThickness(thin, thin.width() / 2, colour) <= 2);

    // Markup in a region's name is shown as text: every label of the wall is plain text.
    for (QLabel *label : wall.findChildren<QLabel *>())
        QCOMPARE(label->textFormat(), Qt::PlainText);
    const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS");
    if (!shots.isEmpty())
        wall.grab().save(shots + QStringLiteral("/war-room-test.png"));
}

void TestWarRoom::staleVeilComesAndGoes()
{
    SimHarness::Options o;
    o.speed = 1; // data every second, as a real fleet sends it
    o.heartbeatMs = 1000;
    SimHarness sim(o);
    FleetSession session;
    session.setClientAdjuster([](ClientConfig &c) {
        c.backoffCapMs = 2000; // the fleet comes back quickly here; the default cap is for real outages
    });
    WarRoomView wall(&session);
    wall.resize(1366, 768);
    wall.show();
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session) && !wall.isStaleShown(), 15000);

    sim.stopServing(); // as a crash would
    QTRY_VERIFY_WITH_TIMEOUT(wall.isStaleShown(), 15000);
    QVERIFY2(wall.staleText().contains(QLatin1String("NOT LIVE")), qPrintable(wall.staleText()));
    QVERIFY2(wall.staleText().contains(QLatin1String("ago")), qPrintable(wall.staleText())); // the age of the data
    QTRY_VERIFY_WITH_TIMEOUT(wall.staleText().contains(QLatin1String("lost")), 10000); // and why, in words
    const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS");
    if (!shots.isEmpty())
        wall.grab().save(shots + QStringLiteral("/war-room-stale.png"));

    sim.startAgain();
    QTRY_VERIFY_WITH_TIMEOUT(!wall.isStaleShown(), 30000); // by itself, nobody touches the wall
    QVERIFY(session.isLive());
}

void TestWarRoom::incidentFromTheStatusPage()
{
    SimHarness sim;
    QTemporaryDir dir;
    FleetSession session;
    QVERIFY(session.openLocalStore(dir.filePath(QStringLiteral("store.sqlite"))));
    WarRoomView wall(&session);
    wall.resize(1920, 1080);
    wall.show();
    QVERIFY(wall.incidentText().contains(QLatin1String("no status page")));
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);

    StatusPageConfig page;
    page.baseUrl = sim.url(QStringLiteral("/statuspage/v1"));
    page.pageId = QStringLiteral("fleetdemo");
    page.apiKey = QStringLiteral("demo-statuspage-key");
    session.setStatusPage(page);
    QTRY_VERIFY_WITH_TIMEOUT(wall.incidentText().contains(QLatin1String("No incident on the status page")), 10000);

    statuspage::IncidentChange change;
    change.name = QStringLiteral("Build failures in <b>EU Central</b>");
    change.status = QStringLiteral("investigating");
    change.body = QStringLiteral("We are looking into it.");
    QVERIFY(session.statusOutbox()->open(change));
    // Delivered through the outbox, read back from the page: name (as text), status, age, last public update.
    QTRY_VERIFY_WITH_TIMEOUT(wall.incidentText().contains(QLatin1String("INVESTIGATING")), 15000);
    QVERIFY2(wall.incidentText().contains(QLatin1String("Build failures in <b>EU Central</b>")),
        qPrintable(wall.incidentText()));
    QVERIFY2(wall.incidentText().contains(QLatin1String("last public update")), qPrintable(wall.incidentText()));
    QVERIFY(session.currentIncident()->lastPublicUpdateMs() > 0);

    // The page going away keeps the incident on the wall and says the page cannot be read.
    const auto fault = sim.admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"error","status":503,"match":"/statuspage/","count":1000})");
    QVERIFY2(fault.status == 201 || fault.status == 200, fault.body.constData());
    session.currentIncident()->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(wall.incidentText().contains(QLatin1String("not readable")), 20000);
    QVERIFY(wall.incidentText().contains(QLatin1String("INVESTIGATING")));
}

void TestWarRoom::nothingGrowsOverAnHour()
{
    SimHarness sim;
    FleetSession session;
    WarRoomView wall(&session);
    wall.resize(1920, 1080);
    wall.show();
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);
    toTheIncident(sim, session);
    QTest::qWait(600);
    wall.refreshNow();
    const int widgets = int(wall.findChildren<QWidget *>().size());
    const int objects = int(wall.findChildren<QObject *>().size());
    int points = 0;
    for (HealthChart *chart : wall.charts())
        points = std::max(points, chart->pointCount(0));

    // An hour of the incident (recovery included): regions come and go from the front, verdicts change.
    for (int i = 0; i < 12; ++i) {
        sim.advance(300);
        QTest::qWait(300);
    }
    QTest::qWait(600);
    wall.refreshNow();
    QCOMPARE(int(wall.findChildren<QWidget *>().size()), widgets);
    QCOMPARE(int(wall.findChildren<QObject *>().size()), objects);
    for (HealthChart *chart : wall.charts()) // reduced to the pixel columns, however much history there is
        QVERIFY2(chart->pointCount(0) <= std::max(points, 4 * chart->width() + 8), qPrintable(chart->title()));
}

void TestWarRoom::notificationsOncePerVerdictChange()
{
    PrivateSessionBus bus;
    QString busError;
    QVERIFY2(bus.start(&busError), qPrintable(busError));
    const QString address = QString::fromUtf8(bus.address());
    const auto disconnect = qScopeGuard([] { // before the daemon stops
        QDBusConnection::disconnectFromBus(QStringLiteral("console"));
        QDBusConnection::disconnectFromBus(QStringLiteral("notification-server"));
    });

    NotificationServer server;
    QDBusConnection serverBus = QDBusConnection::connectToBus(address, QStringLiteral("notification-server"));
    QVERIFY(serverBus.isConnected());
    QVERIFY(serverBus.registerObject(
        QStringLiteral("/org/freedesktop/Notifications"), &server, QDBusConnection::ExportAllSlots));
    QVERIFY(serverBus.registerService(QStringLiteral("org.freedesktop.Notifications")));

    SimHarness sim;
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    FleetSession session;
    DesktopNotifier notifier(&session, &settings);
    notifier.setBus(QDBusConnection::connectToBus(address, QStringLiteral("console")));
    QVERIFY(notifier.isAvailable());
    notifier.setMinIntervalMs(0); // first: every change counts
    // What a person must hear about: a region turning degraded or down, or recovering.
    int expected = 0;
    connect(session.healthMonitor(), &HealthMonitor::verdictChanged, this, [&expected](const VerdictChange &c) {
        if (c.to == Verdict::Degraded || c.to == Verdict::Down
            || (c.to == Verdict::Healthy && (c.from == Verdict::Degraded || c.from == Verdict::Down)))
            ++expected;
    });
    session.connectTo(sim.profile(), QStringLiteral("view-secret"));
    QTRY_VERIFY_WITH_TIMEOUT(ready(session), 15000);
    toTheIncident(sim, session);
    QTest::qWait(500);
    QVERIFY(expected >= 1);
    // Exactly one per verdict change, not one per health sample (a sample comes every fleet second).
    QTRY_COMPARE_WITH_TIMEOUT(int(server.received.size()), expected, 10000);
    const auto eu = std::find_if(server.received.begin(), server.received.end(),
        [](const NotificationServer::Received &r) { return r.summary.startsWith(QLatin1String("EU Central is")); });
    QVERIFY(eu != server.received.end());
    QVERIFY2(eu->body.contains(QLatin1String("became")) && eu->body.contains(QLatin1String("packet loss")),
        qPrintable(eu->body));
    QVERIFY(eu->urgency >= 1);
    QVERIFY(eu->actions.contains(QStringLiteral("default")));

    // Clicking it opens the console at that region.
    QSignalSpy opened(&notifier, &DesktopNotifier::regionActivated);
    serverBus.send(QDBusMessage::createSignal(QStringLiteral("/org/freedesktop/Notifications"),
                       QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("ActionInvoked"))
        << eu->id << QStringLiteral("default"));
    QTRY_COMPARE(opened.count(), 1);
    QCOMPARE(opened.first().first().toString(), QStringLiteral("eu-central"));

    // A flapping region: the first change at once, the rest folded into one that says where it ended up,
    // replacing the region's earlier notification.
    server.received.clear();
    notifier.setMinIntervalMs(1500);
    auto flap = [&session](Verdict from, Verdict to) {
        VerdictChange c;
        c.region = QStringLiteral("flappy");
        c.regionName = QStringLiteral("<b>Flappy</b>"); // the server's text: escaped for a server that reads markup
        c.from = from;
        c.to = to;
        c.reason = QStringLiteral("packet loss 6%");
        Q_EMIT session.healthMonitor()->verdictChanged(c);
    };
    flap(Verdict::Healthy, Verdict::Degraded);
    flap(Verdict::Degraded, Verdict::Healthy);
    flap(Verdict::Healthy, Verdict::Degraded);
    flap(Verdict::Degraded, Verdict::Healthy);
    QTRY_COMPARE(int(server.received.size()), 1);
    QCOMPARE(server.received[0].summary, QStringLiteral("<b>Flappy</b> is degraded")); // summaries are plain text
    QVERIFY2(server.received[0].body.contains(QLatin1String("&lt;b&gt;Flappy")), qPrintable(server.received[0].body));
    QVERIFY(!server.received[0].body.contains(QLatin1String("<b>")));
    QTest::qWait(1000);
    QCOMPARE(int(server.received.size()), 1); // nothing more inside the region's interval
    QTRY_COMPARE_WITH_TIMEOUT(int(server.received.size()), 2, 3000);
    QCOMPARE(server.received[1].summary, QStringLiteral("<b>Flappy</b> recovered"));
    QVERIFY2(server.received[1].body.contains(QLatin1String("3 times")), qPrintable(server.received[1].body));
    QCOMPARE(server.received[1].replaces, server.received[0].id);
    QTest::qWait(2000);
    QCOMPARE(int(server.received.size()), 2);

    // A kind turned off stays quiet, and the choice is kept.
    notifier.setMinIntervalMs(0);
    notifier.setEnabled(DesktopNotifier::Kind::RegionTrouble, false);
    QCOMPARE(settings.value(DesktopNotifier::settingsKey(DesktopNotifier::Kind::RegionTrouble, session.profile().name))
                 .toBool(),
        false);
    QCOMPARE(ProfileSettings::load(&settings, session.profile().name).notifyTrouble, false); // Settings shows it
    flap(Verdict::Healthy, Verdict::Down);
    QTest::qWait(500);
    QCOMPARE(int(server.received.size()), 2);
    flap(Verdict::Down, Verdict::Healthy); // recoveries are still on
    QTRY_COMPARE(int(server.received.size()), 3);
}

QTEST_MAIN(TestWarRoom)
#include "tst_warroom.moc"
