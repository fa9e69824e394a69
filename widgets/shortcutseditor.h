#pragma once

#include <QDialog>
#include <QHash>
#include <QKeySequence>

class QKeySequenceEdit;
class QLabel;
class QSettings;
class QTableWidget;

namespace fleet {

class ActionRegistry;

// Help > Customize shortcuts…: every command of the registry with its shortcut, which the user changes by pressing
// the keys (Backspace clears, "Default" restores); OK keeps the choices in the settings (ActionRegistry's group
// "shortcuts") and they apply at once. A key another command has is refused with that command's name, and nothing
// is saved until every choice is free.
class ShortcutsEditor : public QDialog
{
    Q_OBJECT

public:
    ShortcutsEditor(ActionRegistry *registry, QSettings *settings, QWidget *parent = nullptr);

    QKeySequenceEdit *editorFor(const QString &id) const { return m_edits.value(id); }
    QString problem() const; // why OK did not save; empty after a save

    void save(); // what OK does; the dialog stays open when something is refused

private:
    ActionRegistry *m_registry;
    QSettings *m_settings;
    QTableWidget *m_table;
    QLabel *m_problem;
    QHash<QString, QKeySequenceEdit *> m_edits;
    QHash<QString, QKeySequence> m_shown; // what each row showed when the dialog opened
};

} // namespace fleet
