// Settings per connection profile (issue #21, item 7): the status page (URL, page id, and its API key in the real
// desktop keychain: gnome-keyring on a private bus), the desktop notification kinds and the verdict thresholds, set
// in the dialog as a person would, remembered with the profile across runs, used at once (the verdicts, the charts'
// threshold lines, a status update delivered to fleet-sim's page), kept apart per profile, and overridden by the
// command line. The key never reaches the settings file.

#include "actionregistry.h"
#include "alertwatch.h"
#include "chartpanel.h"
#include "connectionprofiles.h"
#include "consolewindow.h"
#include "currentincident.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthchart.h"
#include "healthmonitor.h"
#include "privatebus.h"
#include "profilesettings.h"
#include "settingsdialog.h"
#include "shortcutseditor.h"
#include "simharness.h"
#include "statusbackend.h"
#include "statusoutbox.h"
#include "tokensource.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QLayout>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace fleet;

namespace {

const QString kKey = QStringLiteral("demo-statuspage-key");

template <typename T> T *field(SettingsDialog *dialog, const char *name)
{
    T *w = dialog->findChild<T *>(QLatin1String(name));
    if (!w)
        qFatal("the settings dialog has no field %s", name);
    return w;
}

// Keys go to the dialog as they would on a desktop, never to the console's shortcuts behind it (digits choose a
// chart span there, Space pauses the charts): the dialog is made the active window before each field is typed.
void activate(QWidget *w)
{
    w->window()->activateWindow();
    if (!QTest::qWaitFor([w] { return QApplication::activeWindow() == w->window(); }, 5000))
        qFatal("the settings dialog did not become the active window");
    w->setFocus();
}

void setText(QLineEdit *edit, const QString &text)
{
    activate(edit);
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

void setValue(QAbstractSpinBox *box, const QString &text)
{
    activate(box);
    box->selectAll();
    QTest::keyClicks(box, text);
    QTest::keyClick(box, Qt::Key_Tab);
}

QPushButton *saveButton(SettingsDialog *dialog)
{
    return dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save);
}

// A console as main() builds it, on a settings file and a local store of its own.
struct Console
{
    Console(QSettings *settings, const QString &storePath)
    {
        session.openLocalStore(storePath);
        window = std::make_unique<ConsoleWindow>(&session, settings);
        window->setDesktopPresence(false);
        window->resize(1366, 768);
        window->show();
    }
    FleetSession session;
    std::unique_ptr<ConsoleWindow> window;
};

} // namespace

class TestSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        for (const char *v : { "STATUSPAGE_API_KEY", "PROMETHEUS_TOKEN", "PROMETHEUS_BASIC_AUTH", "ALERTMANAGER_TOKEN",
                 "ALERTMANAGER_BASIC_AUTH" })
            qunsetenv(v);
    }

    void settingsAreCheckedAndHandEditedValuesNeverUsed()
    {
        ProfileSettings s;
        QVERIFY(s.problem().isEmpty());
        s.thresholds.downPacketLoss = 0.03; // below degraded (5 %)
        QVERIFY2(s.problem().contains(QLatin1String("down packet loss (3 %)")), qPrintable(s.problem()));
        s = {};
        s.pageId = QStringLiteral("page/../x");
        QVERIFY2(s.problem().contains(QLatin1String("page id")), qPrintable(s.problem()));
        s = {};
        s.pageId = QStringLiteral("p1");
        s.statusPageUrl = QUrl(QStringLiteral("ftp://pages"));
        QVERIFY2(s.problem().contains(QLatin1String("http(s)")), qPrintable(s.problem()));

        QTemporaryDir dir;
        QSettings file(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
        ProfileSettings saved;
        saved.pageId = QStringLiteral("p1");
        saved.thresholds.degradedPacketLoss = 0.02;
        saved.thresholds.holdSeconds = 10;
        saved.notifyOperations = false;
        saved.save(&file, QStringLiteral("prod/eu"));
        const ProfileSettings back = ProfileSettings::load(&file, QStringLiteral("prod/eu"));
        QCOMPARE(back.pageId, QStringLiteral("p1"));
        QCOMPARE(back.thresholds.degradedPacketLoss, 0.02);
        QCOMPARE(back.thresholds.holdSeconds, 10);
        QCOMPARE(back.notifyOperations, false);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("other")).thresholds.degradedPacketLoss, 0.05);

        // A kind turned off before the choices were per profile stays off for a profile without its own choice.
        file.setValue(QStringLiteral("notifications/region_recovered"), false);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("upgraded")).notifyRecovered, false);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("upgraded")).notifyTrouble, true);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("prod/eu")).notifyRecovered, true); // its own choice

        // A hand-edited file: a value out of range, text where a number goes, a pair the wrong way round.
        const QString group = ProfileStore::group(QStringLiteral("prod/eu")) + QStringLiteral("/settings/");
        file.setValue(group + QStringLiteral("hold_seconds"), -5);
        file.setValue(group + QStringLiteral("degraded_rtt_p95_ms"), QStringLiteral("fast"));
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("prod/eu")).thresholds.holdSeconds, 30);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("prod/eu")).thresholds.degradedRttP95Ms, 400.0);
        file.setValue(group + QStringLiteral("down_packet_loss"), 0.01);
        QCOMPARE(ProfileSettings::load(&file, QStringLiteral("prod/eu")).thresholds.degradedPacketLoss, 0.05);
    }

    void shortcutsChosenByTheUserAreKeptAndConflictsRefused()
    {
        // Help > Customize shortcuts: a key pressed into the editor is the command's at once and after a restart; a
        // key another command has is refused with its name and nothing is saved; "Default" and an empty choice work.
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("fleet.ini")), QSettings::IniFormat);
        const QString store = dir.filePath(QStringLiteral("store.sqlite"));
        {
            Console c(&settings, store);
            ActionRegistry *r = c.window->actions();
            QVERIFY(r->ids().contains(QStringLiteral("help.customizeShortcuts")));
            QVERIFY(r->ids().contains(QStringLiteral("actions.drainWorkers"))); // every command is in the table
            r->action(QStringLiteral("help.customizeShortcuts"))->trigger();
            QPointer<ShortcutsEditor> editor = c.window->findChild<ShortcutsEditor *>();
            QVERIFY(editor);
            QTRY_VERIFY(editor->isVisible());
            editor->activateWindow();
            QVERIFY(QTest::qWaitForWindowActive(editor));
            // A key the theme switch does not have: taken by pressing it.
            if (const QString dir = qEnvironmentVariable("FLEET_SCREENSHOTS"); !dir.isEmpty()) // to look at it
                editor->grab().save(dir + QStringLiteral("/shortcuts-editor.png"));
            QKeySequenceEdit *theme = editor->editorFor(QStringLiteral("view.theme"));
            QVERIFY(theme);
            theme->setFocus();
            theme->clear();
            QTest::keyClick(theme, Qt::Key_T, Qt::ControlModifier | Qt::AltModifier);
            QTRY_COMPARE(theme->keySequence(), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_T));
            // Connect's key for the drain of workers: refused, naming Connect; nothing changes.
            editor->editorFor(QStringLiteral("actions.drainWorkers"))
                ->setKeySequence(QKeySequence(Qt::CTRL | Qt::Key_O));
            editor->save();
            QVERIFY2(editor->problem().contains(QLatin1String("Ctrl+O")), qPrintable(editor->problem()));
            QVERIFY2(editor->problem().contains(QLatin1String("Connect")), qPrintable(editor->problem()));
            QVERIFY(editor->isVisible());
            QCOMPARE(r->action(QStringLiteral("view.theme"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_T));
            // Freed first, then given: Connect loses Ctrl+O to the drain of workers in one save.
            editor->editorFor(QStringLiteral("file.connect"))->clear();
            editor->save();
            QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
            QTRY_VERIFY(!editor || !editor->isVisible());
            QCOMPARE(r->action(QStringLiteral("view.theme"))->shortcut(), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_T));
            QCOMPARE(r->action(QStringLiteral("actions.drainWorkers"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_O));
            QVERIFY(r->action(QStringLiteral("file.connect"))->shortcut().isEmpty());
            // The overlay lists the new key.
            bool listed = false;
            for (const auto &e : r->helpEntries())
                listed = listed || (e.id == QLatin1String("view.theme") && e.keys.contains(QLatin1String("Alt+T")));
            QVERIFY(listed);
        }
        settings.sync();
        {
            Console c(&settings, store);
            ActionRegistry *r = c.window->actions();
            QCOMPARE(r->action(QStringLiteral("view.theme"))->shortcut(), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_T));
            QCOMPARE(r->action(QStringLiteral("actions.drainWorkers"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_O));
            QVERIFY(r->action(QStringLiteral("file.connect"))->shortcut().isEmpty());
            // Back to the defaults: nothing of the user's is left in the settings.
            QVERIFY(r->setShortcuts(QStringLiteral("actions.drainWorkers"), std::nullopt, settings));
            QVERIFY(r->setShortcuts(QStringLiteral("file.connect"), std::nullopt, settings));
            QVERIFY(r->setShortcuts(QStringLiteral("view.theme"), std::nullopt, settings));
            QCOMPARE(r->action(QStringLiteral("file.connect"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_O));
            settings.beginGroup(QStringLiteral("shortcuts"));
            QVERIFY2(settings.childKeys().isEmpty(), qPrintable(settings.childKeys().join(u' ')));
            settings.endGroup();
        }
        // A hand-edited entry that takes another command's key is left out; the default stays.
        settings.setValue(QStringLiteral("shortcuts/view.theme"), QStringLiteral("Ctrl+Q"));
        settings.setValue(QStringLiteral("shortcuts/no.such.command"), QStringLiteral("Ctrl+J"));
        Console c(&settings, store);
        QCOMPARE(
            c.window->actions()->action(QStringLiteral("view.theme"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_T));
        QCOMPARE(
            c.window->actions()->action(QStringLiteral("file.quit"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_Q));
    }

    void setInTheDialogRememberedPerProfileAndUsed()
    {
        PrivateKeyring keyring;
        QString keyringError;
        QVERIFY2(keyring.start(&keyringError), qPrintable(keyringError));
        SimHarness sim;
        QTemporaryDir dir;
        const QString iniPath = dir.filePath(QStringLiteral("settings.ini"));
        QSettings settings(iniPath, QSettings::IniFormat);
        const QString pageUrl = sim.url(QStringLiteral("/statuspage/v1")).toString();

        {
            Console c(&settings, dir.filePath(QStringLiteral("a.sqlite")));
            QAction *settingsAction = c.window->actions()->action(QStringLiteral("file.settings"));
            QVERIFY(!settingsAction->isEnabled()); // settings belong to a profile: none yet
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(c.session.isLive(), 15000);
            QVERIFY(c.session.statusPage().pageId.isEmpty()); // a new profile: no status page yet

            // Ctrl+, opens it, as the menu says.
            c.window->activateWindow();
            QTest::keyClick(c.window.get(), Qt::Key_Comma, Qt::ControlModifier);
            QTRY_VERIFY(c.window->settingsDialog());
            SettingsDialog *d = c.window->settingsDialog();
            QVERIFY(d->windowTitle().contains(QLatin1String("ops")));
            setText(field<QLineEdit>(d, "pageUrl"), pageUrl);
            setText(field<QLineEdit>(d, "pageId"), QStringLiteral("fleetdemo"));
            setText(field<QLineEdit>(d, "apiKey"), kKey);
            QVERIFY2(field<QLabel>(d, "keyState")->text().contains(QLatin1String("keychain")),
                qPrintable(field<QLabel>(d, "keyState")->text()));

            // Down below degraded: Save is disabled and the reason is beside it.
            setValue(field<QDoubleSpinBox>(d, "downLoss"), QStringLiteral("3"));
            QVERIFY(!saveButton(d)->isEnabled());
            QVERIFY(field<QLabel>(d, "problem")->isVisibleTo(d));
            QVERIFY2(field<QLabel>(d, "problem")->text().contains(QLatin1String("down packet loss")),
                qPrintable(field<QLabel>(d, "problem")->text()));
            setValue(field<QDoubleSpinBox>(d, "degradedLoss"), QStringLiteral("2"));

            setValue(field<QDoubleSpinBox>(d, "downLoss"), QStringLiteral("40"));
            setValue(field<QSpinBox>(d, "degradedRtt"), QStringLiteral("250"));
            activate(field<QCheckBox>(d, "notifyRecovered"));
            QTest::keyClick(field<QCheckBox>(d, "notifyRecovered"), Qt::Key_Space);
            QVERIFY(!field<QCheckBox>(d, "notifyRecovered")->isChecked());
            QVERIFY2(saveButton(d)->isEnabled(), qPrintable(d->problem()));
            // FLEET_SCREENSHOTS=DIR: the dialog as a person sees it, for docs/images.
            if (const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS"); !shots.isEmpty())
                QVERIFY(d->grab().save(shots + QStringLiteral("/settings-dialog.png")));
            QTest::mouseClick(saveButton(d), Qt::LeftButton);
            QTRY_VERIFY(!c.window->settingsDialog());

            // Used at once: the verdicts' thresholds, the charts' lines, the notification choice, the status page.
            QCOMPARE(c.session.healthMonitor()->thresholds().degradedPacketLoss, 0.02);
            QCOMPARE(c.session.healthMonitor()->thresholds().degradedRttP95Ms, 250.0);
            const QList<ChartThreshold> lines = c.window->chartPanel()->charts().at(1)->thresholds();
            QCOMPARE(lines.size(), 2);
            QCOMPARE(lines.at(0).value, 2.0);
            QCOMPARE(lines.at(1).value, 40.0);
            QCOMPARE(c.window->chartPanel()->charts().at(2)->thresholds().at(0).value, 250.0);
            QVERIFY(!c.window->actions()->action(QStringLiteral("notify.regionRecovered"))->isChecked());
            QVERIFY(c.window->actions()->action(QStringLiteral("notify.regionTrouble"))->isChecked());
            QCOMPARE(c.session.statusPage().pageId, QStringLiteral("fleetdemo"));
            QCOMPARE(c.session.statusPage().baseUrl.toString(), pageUrl);
            QVERIFY(c.session.statusPage().problem().isEmpty());
            // The session built one backend from the profile's page, shared by the outbox and the current incident.
            QVERIFY(c.session.statusBackend());
            QCOMPARE(c.session.statusOutbox()->backend(), c.session.statusBackend());
            QVERIFY(c.session.currentIncident()->isConfigured());
            QVERIFY2(c.session.statusBackend()->where().contains(QLatin1String("fleetdemo")),
                qPrintable(c.session.statusBackend()->where()));

            // A status update goes to the page it names.
            statuspage::IncidentChange change;
            change.name = QStringLiteral("Settings check");
            change.status = QStringLiteral("investigating");
            change.body = QStringLiteral("Checking the settings.");
            change.deliverNotifications = false;
            QVERIFY(c.session.statusOutbox()->open(change));
            QTRY_COMPARE_WITH_TIMEOUT(c.session.statusOutbox()->pendingCount(), 0, 15000);
            QCOMPARE(c.session.statusOutbox()->entries().constLast().state, QStringLiteral("delivered"));
            QCOMPARE(sim.server().statusPage().incidentCount(), 1);
        }

        // The key is in the keychain and nowhere in the settings file.
        settings.sync();
        QFile ini(iniPath);
        QVERIFY(ini.open(QIODevice::ReadOnly));
        const QByteArray written = ini.readAll();
        QVERIFY(written.contains("fleetdemo"));
        QVERIFY2(!written.contains(kKey.toUtf8()), written.constData());

        {
            // The next run: the same profile gets everything back, the key from the keychain.
            Console c(&settings, dir.filePath(QStringLiteral("b.sqlite")));
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_COMPARE_WITH_TIMEOUT(c.session.statusPage().apiKey, kKey, 20000);
            QCOMPARE(c.session.statusPage().pageId, QStringLiteral("fleetdemo"));
            QCOMPARE(c.session.healthMonitor()->thresholds().degradedPacketLoss, 0.02);
            QVERIFY(!c.window->actions()->action(QStringLiteral("notify.regionRecovered"))->isChecked());
            SettingsDialog *d = c.window->openSettingsDialog();
            QVERIFY(d);
            QCOMPARE(field<QLineEdit>(d, "pageId")->text(), QStringLiteral("fleetdemo"));
            QVERIFY(field<QLineEdit>(d, "apiKey")->text().isEmpty()); // the key is never shown back
            QVERIFY2(field<QLabel>(d, "keyState")->text().contains(QLatin1String("in use")),
                qPrintable(field<QLabel>(d, "keyState")->text()));
            QCOMPARE(field<QDoubleSpinBox>(d, "degradedLoss")->value(), 2.0);
            d->close();
            QTRY_VERIFY(!c.window->settingsDialog());

            // Another profile has its own settings: the defaults, no status page.
            c.session.connectTo(sim.profile(QStringLiteral("staging")), QStringLiteral("op-secret"));
            QVERIFY(c.session.statusPage().pageId.isEmpty());
            QCOMPARE(c.session.healthMonitor()->thresholds().degradedPacketLoss, 0.05);
            QCOMPARE(c.window->chartPanel()->charts().at(1)->thresholds().at(0).value, 5.0);
            QVERIFY(c.window->actions()->action(QStringLiteral("notify.regionRecovered"))->isChecked());
        }

        {
            // A page the program set before connecting stays when the profile's settings name none.
            Console c(&settings, dir.filePath(QStringLiteral("d.sqlite")));
            StatusPageConfig set;
            set.baseUrl = sim.url(QStringLiteral("/statuspage/v1"));
            set.pageId = QStringLiteral("set-by-the-program");
            set.apiKey = QStringLiteral("program-key");
            c.session.setStatusPage(set);
            c.session.connectTo(sim.profile(QStringLiteral("no-settings")), QStringLiteral("op-secret"));
            QCOMPARE(c.session.statusPage().pageId, QStringLiteral("set-by-the-program"));
        }

        {
            // The command line overrides: its status page stays, the profile's thresholds still apply.
            Console c(&settings, dir.filePath(QStringLiteral("c.sqlite")));
            c.session.lockStatusPage(QStringLiteral("--page-id"));
            StatusPageConfig cli;
            cli.baseUrl = sim.url(QStringLiteral("/statuspage/v1"));
            cli.pageId = QStringLiteral("from-the-command-line");
            cli.apiKey = QStringLiteral("cli-key");
            c.session.setStatusPage(cli);
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTest::qWait(500); // a keychain answer, were one asked for, would be back
            QCOMPARE(c.session.statusPage().pageId, QStringLiteral("from-the-command-line"));
            QCOMPARE(c.session.statusPage().apiKey, QStringLiteral("cli-key"));
            QCOMPARE(c.session.healthMonitor()->thresholds().degradedPacketLoss, 0.02);
            SettingsDialog *d = c.window->openSettingsDialog();
            QVERIFY(d);
            bool said = false;
            for (QLabel *l : d->findChildren<QLabel *>())
                said = said || l->text().contains(QLatin1String("chosen by --page-id"));
            QVERIFY(said);
        }
        monitoringKeptPerProfileWithItsTokenFromTheKeychain();
    }

private:
    // Prometheus and Alertmanager per profile (issue #23): set in the dialog, kept with the profile, used on the next
    // run with the token the keychain holds for that server's origin (never another's); a hand-edited URL a client
    // could not use is dropped; the command line's lock keeps the profile's out of this run.
    // Runs on the keyring of setInTheDialogRememberedPerProfileAndUsed: the process's D-Bus session connection is made
    // once, so a second private keyring in the same process could not be reached.
    void monitoringKeptPerProfileWithItsTokenFromTheKeychain()
    {
        SimHarness sim;
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        const QUrl prometheus(QStringLiteral("http://127.0.0.1:9/prometheus"));
        const QUrl alertmanager(QStringLiteral("http://127.0.0.1:19093"));
        QCOMPARE(ProfileSettings::monitoringKeychainAccount(QStringLiteral("alertmanager"), alertmanager),
            QStringLiteral("alertmanager/http://127.0.0.1:19093"));
        QCOMPARE(ProfileSettings::monitoringKeychainAccount(QStringLiteral("prometheus"), prometheus),
            QStringLiteral("prometheus/http://127.0.0.1:9"));
        {
            // The token of this Alertmanager's origin, and one of another origin that must not be used.
            QObject context;
            for (const auto &[account, token] :
                { std::pair { QStringLiteral("alertmanager/http://127.0.0.1:19093"), QStringLiteral("am-token-1") },
                    std::pair {
                        QStringLiteral("prometheus/http://127.0.0.1:9999"), QStringLiteral("not-this-one") } }) {
                std::optional<Result<bool>> stored;
                QElapsedTimer clock;
                clock.start();
                while (clock.elapsed() < 20000 && !(stored && stored->ok())) {
                    stored.reset();
                    tokens::storeInKeychain(account, token, &context, [&](Result<bool> r) { stored = std::move(r); });
                    QTRY_VERIFY_WITH_TIMEOUT(stored.has_value(), 20000);
                    if (!stored->ok())
                        QTest::qWait(200); // the daemon may still be claiming its bus name
                }
                QVERIFY2(stored->ok(), qPrintable(stored->error()));
            }
        }
        {
            Console c(&settings, dir.filePath(QStringLiteral("a.sqlite")));
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(c.session.isLive(), 15000);
            QVERIFY(!c.session.alertWatch()); // nothing saved yet
            SettingsDialog *d = c.window->openSettingsDialog();
            QVERIFY(d);
            setText(field<QLineEdit>(d, "prometheusUrl"), QStringLiteral("ftp://127.0.0.1:9"));
            QVERIFY(!saveButton(d)->isEnabled());
            QVERIFY2(d->problem().startsWith(QLatin1String("Prometheus: ")), qPrintable(d->problem()));
            setText(field<QLineEdit>(d, "prometheusUrl"), prometheus.toString());
            setValue(field<QSpinBox>(d, "prometheusScrape"), QStringLiteral("30"));
            setText(field<QLineEdit>(d, "alertmanagerUrl"), alertmanager.toString());
            setValue(field<QSpinBox>(d, "alertmanagerPoll"), QStringLiteral("5"));
            QVERIFY2(saveButton(d)->isEnabled(), qPrintable(d->problem()));
            if (const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS"); !shots.isEmpty())
                QVERIFY(d->grab().save(shots + QStringLiteral("/settings-monitoring.png")));
            QTest::mouseClick(saveButton(d), Qt::LeftButton);
            QTRY_VERIFY(!c.window->settingsDialog());
            // Used at once, with the keychain's token for that origin; Prometheus has none there.
            QTRY_VERIFY_WITH_TIMEOUT(c.session.alertWatch(), 20000);
            QCOMPARE(c.session.alertmanager().url, alertmanager);
            QCOMPARE(c.session.alertmanager().bearerToken, QStringLiteral("am-token-1"));
            QCOMPARE(c.session.alertWatch()->intervalSeconds(), 5);
            QTRY_COMPARE_WITH_TIMEOUT(c.session.prometheus().url, prometheus, 20000);
            QVERIFY(c.session.prometheus().bearerToken.isEmpty());
        }
        // Kept in the settings file, the token not.
        settings.sync();
        QFile ini(settings.fileName());
        QVERIFY(ini.open(QIODevice::ReadOnly));
        const QByteArray written = ini.readAll();
        QVERIFY(written.contains("19093"));
        QVERIFY(!written.contains("am-token-1"));
        {
            // The next run has them back; another profile has none.
            Console c(&settings, dir.filePath(QStringLiteral("b.sqlite")));
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(c.session.alertWatch(), 20000);
            QCOMPARE(c.session.alertmanager().bearerToken, QStringLiteral("am-token-1"));
            c.session.connectTo(sim.profile(QStringLiteral("staging")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(!c.session.alertWatch(), 5000);
            QVERIFY(c.session.prometheus().url.isEmpty());
        }
        {
            // The environment's token wins over the keychain's; the command line's choice over the profile's.
            qputenv("ALERTMANAGER_TOKEN", "am-from-env");
            Console c(&settings, dir.filePath(QStringLiteral("c.sqlite")));
            c.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(c.session.alertWatch(), 20000);
            QCOMPARE(c.session.alertmanager().bearerToken, QStringLiteral("am-from-env"));
            qunsetenv("ALERTMANAGER_TOKEN");
            Console locked(&settings, dir.filePath(QStringLiteral("d.sqlite")));
            locked.session.lockMonitoring(QStringLiteral("--alertmanager"));
            locked.session.connectTo(sim.profile(QStringLiteral("ops")), QStringLiteral("op-secret"));
            QTRY_VERIFY_WITH_TIMEOUT(locked.session.isLive(), 15000);
            QTest::qWait(500); // a keychain answer, were one asked for, would be back
            QVERIFY(!locked.session.alertWatch());
        }
        // A hand-edited URL no client could use is dropped, not half-used.
        settings.setValue(ProfileStore::group(QStringLiteral("ops")) + QStringLiteral("/settings/alertmanager_url"),
            QStringLiteral("javascript:alert(1)"));
        QVERIFY(ProfileSettings::load(&settings, QStringLiteral("ops")).alertmanagerUrl.isEmpty());
        QCOMPARE(ProfileSettings::load(&settings, QStringLiteral("ops")).prometheusUrl, prometheus);
    }
};

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
