// Every window and dialog of the console, walked page by page (issue #21, item 2): no two widgets visible at the same
// time share an Alt+letter. In the composer "&Name:" and "&Notify subscribers" both took Alt+N (Alt+N selected the
// name's text instead of the notify choice); in the incident dialog "&Postmortem draft" and "&Publish…" both took
// Alt+P. Counted: buttons, check boxes and radio buttons, labels, group boxes, tabs and the menu bar.

#include "actiondialog.h"
#include "connectdialog.h"
#include "connectionprofiles.h"
#include "consolewindow.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "incidentdialog.h"
#include "settingsdialog.h"
#include "simharness.h"
#include "statusupdatedialog.h"

#include <QAbstractButton>
#include <QGroupBox>
#include <QLabel>
#include <QMenuBar>
#include <QSettings>
#include <QStackedWidget>
#include <QTabBar>
#include <QTemporaryDir>
#include <QTest>

#include <map>

using namespace fleet;

namespace {

// The letter after a single '&' ("&Name:" -> 'n'; "&&" is a literal ampersand), or 0.
QChar mnemonic(const QString &text)
{
    for (qsizetype i = 0; i + 1 < text.size(); ++i) {
        if (text[i] != u'&')
            continue;
        if (text[i + 1] == u'&') {
            ++i;
            continue;
        }
        return text[i + 1].toLower();
    }
    return {};
}

// The mnemonics of what `top` shows now, letter -> who has it; "Alt+N: "&Name:", "&Notify subscribers"" per clash.
QStringList clashesNow(QWidget *top, const QString &where)
{
    std::map<QChar, QStringList> owners;
    const auto add = [&](const QString &text) {
        if (const QChar m = mnemonic(text); !m.isNull())
            owners[m] << QStringLiteral("\"%1\"").arg(text);
    };
    for (QWidget *w : top->findChildren<QWidget *>()) {
        if (w->window() != top || !w->isVisibleTo(top))
            continue;
        if (auto *b = qobject_cast<QAbstractButton *>(w))
            add(b->text());
        else if (auto *l = qobject_cast<QLabel *>(w))
            add(l->text());
        else if (auto *g = qobject_cast<QGroupBox *>(w))
            add(g->title());
        else if (auto *bar = qobject_cast<QTabBar *>(w)) {
            for (int i = 0; i < bar->count(); ++i)
                add(bar->tabText(i));
        } else if (auto *menus = qobject_cast<QMenuBar *>(w)) {
            for (QAction *a : menus->actions())
                add(a->text());
        }
    }
    QStringList out;
    for (const auto &[letter, who] : owners) {
        if (who.size() > 1)
            out << QStringLiteral("%1: Alt+%2 is %3").arg(where, letter.toUpper(), who.join(QStringLiteral(", ")));
    }
    return out;
}

// Every page of every stack (tab widgets included) in turn, the rest as it is.
QStringList clashes(QWidget *top, const QString &name)
{
    QStringList out = clashesNow(top, name);
    for (QStackedWidget *stack : top->findChildren<QStackedWidget *>()) {
        if (stack->window() != top)
            continue;
        const int was = stack->currentIndex();
        for (int i = 0; i < stack->count(); ++i) {
            stack->setCurrentIndex(i);
            out << clashesNow(top, QStringLiteral("%1 (page %2 of %3)").arg(name).arg(i + 1).arg(stack->objectName()));
        }
        stack->setCurrentIndex(was);
    }
    out.removeDuplicates();
    return out;
}

} // namespace

class TestMnemonics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theCheckSeesAClash()
    {
        QWidget w;
        new QLabel(QStringLiteral("&Name:"), &w);
        new QGroupBox(QStringLiteral("&Notify"), &w);
        w.show();
        QCOMPARE(clashes(&w, QStringLiteral("w")).size(), 1);
        QCOMPARE(mnemonic(QStringLiteral("Save && &quit")), QChar(u'q'));
    }

    void noWindowOrDialogHasTwoWidgetsOnOneLetter()
    {
        SimHarness sim;
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        FleetSession session;
        session.openLocalStore(dir.filePath(QStringLiteral("store.sqlite")));
        ConsoleWindow window(&session, &settings);
        window.resize(1920, 1080);
        window.show();
        session.connectTo(sim.profile(QStringLiteral("test")), QStringLiteral("op-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive() && session.identity().has_value(), 15000);
        QStringList found = clashes(&window, QStringLiteral("console window"));

        StatusUpdateDialog *composer = window.openStatusUpdateDialog(QStringLiteral("eu-central"));
        QVERIFY(composer);
        found << clashes(composer, QStringLiteral("status update composer"));
        composer->close();

        IncidentDialog *incident = window.openIncidentDialog();
        QVERIFY(incident);
        found << clashes(incident, QStringLiteral("incident timeline and postmortem"));
        incident->close();

        for (const FleetAction &a : { FleetAction::provision(QStringLiteral("eu-west"), 4, Arch::Amd64, QString()),
                 FleetAction::drainRegion(QStringLiteral("eu-west"), QString()) }) {
            ActionDialog dialog(&session, { a }, QStringLiteral("context"), &window);
            dialog.show();
            found << clashes(&dialog, QStringLiteral("action dialog: ") + a.describe());
        }

        SettingsDialog *settingsDialog = window.openSettingsDialog();
        QVERIFY(settingsDialog);
        found << clashes(settingsDialog, QStringLiteral("settings"));
        settingsDialog->close();

        ProfileStore profiles(&settings);
        ConnectDialog connect(&profiles, &window);
        connect.show();
        found << clashes(&connect, QStringLiteral("connect dialog"));

        QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
    }
};

QTEST_MAIN(TestMnemonics)
#include "tst_mnemonics.moc"
