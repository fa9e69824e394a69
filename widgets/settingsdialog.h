#pragma once

#include "profilesettings.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSpinBox;

namespace fleet {

class FleetSession;

// Settings of the session's connection profile (Edit > Settings..., Ctrl+,): its status page (API URL, page id, and
// an API key that goes to the desktop keychain, never to the settings file), which desktop notifications it sends,
// and the verdict thresholds. Shows what the profile has saved; a value out of range or a wrong pair (down below
// degraded) keeps Save disabled with the reason beside it. Saving is the window's (ConsoleWindow::saveSettings):
// the dialog only says what was chosen.
class SettingsDialog : public QDialog
{
    Q_OBJECT

public:
    SettingsDialog(FleetSession *session, const ProfileSettings &current, QWidget *parent = nullptr);

    ProfileSettings chosen() const; // what the fields say now
    QString typedKey() const; // the API key typed, or empty (keep the stored one)
    QString problem() const; // why Save is disabled, in words; empty when it is not
    void setChosen(const ProfileSettings &settings); // fills the fields (Restore defaults: the defaults)

private:
    void updateState();
    void fitToContent();

    FleetSession *m_session;
    QLineEdit *m_pageUrl;
    QLineEdit *m_pageId;
    QLineEdit *m_key;
    QLabel *m_keyState;
    QLineEdit *m_prometheusUrl;
    QSpinBox *m_scrape;
    QLineEdit *m_alertmanagerUrl;
    QSpinBox *m_poll;
    QSpinBox *m_recordDays;
    QSpinBox *m_recordCap;
    QCheckBox *m_notifyTrouble;
    QCheckBox *m_notifyRecovered;
    QCheckBox *m_notifyOperations;
    QDoubleSpinBox *m_degradedLoss;
    QDoubleSpinBox *m_downLoss;
    QDoubleSpinBox *m_degradedFailures;
    QDoubleSpinBox *m_downFailures;
    QSpinBox *m_degradedRtt;
    QSpinBox *m_minBuilds;
    QSpinBox *m_window;
    QSpinBox *m_hold;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
};

} // namespace fleet
