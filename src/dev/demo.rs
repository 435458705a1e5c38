//! Demo data for development: two municipalities with real-sounding
//! departments and services, so a newcomer sees a working catalogue at once.
//! E-mail addresses use the reserved `.example` domain: nobody real is ever
//! written to.

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc, Weekday};

use crate::auth::contact_registry;
use crate::auth::roles::{self, ScopedRole};
use crate::domain::{Afm, Phone};

use crate::booking::catalogue::store::{
    self, DepartmentRow, DocumentPurpose, DocumentRow, MunicipalityRow, ServiceRow,
};
use crate::booking::reservations::store::service_context;
use crate::booking::schedule::store::ScheduleRow;
use crate::booking::schedule::{self, OpeningRange, Schedule};
use crate::db::DbConn;
use crate::domain::ids::{DepartmentId, MunicipalityId, ServiceId};

struct DemoService {
    name: (&'static str, &'static str),
    description: (&'static str, &'static str),
    duration_minutes: i32,
    legal_entity_documents: &'static [(&'static str, &'static str)],
    required_documents: &'static [(&'static str, &'static str)],
}

struct DemoDepartment {
    name: (&'static str, &'static str),
    email: &'static str,
    services: &'static [DemoService],
}

struct DemoMunicipality {
    name: (&'static str, &'static str),
    email: &'static str,
    departments: &'static [DemoDepartment],
}

/// Demo people for the development sign-in, one per role (README lists
/// them). Their AFMs carry valid check digits; names are as GSIS sends them.
pub struct DemoPerson {
    pub afm: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub father_name: &'static str,
    pub mother_name: &'static str,
    pub birth_year: u16,
    /// Certified in the development contact registry, if any.
    pub mobile: Option<&'static str>,
    pub role_note: &'static str,
}

/// The demo citizen: she has a certified mobile, and a pending upload
/// of her photos waits for her on first start.
pub const CITIZEN: &str = "123456783";
/// A citizen whose photos are linked and authorized for the Ministry of
/// Transport on first start (`demo_apps.rs`).
pub const CONSENTING_CITIZEN: &str = "246813570";
/// The owner of the demo photo studio.
pub const PHOTOGRAPHER: &str = "111222336";

pub const DEMO_PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        afm: CITIZEN,
        first_name: "Μαρία",
        last_name: "Παπαδοπούλου",
        father_name: "Γεώργιος",
        mother_name: "Ελένη",
        birth_year: 1985,
        mobile: Some("+306912345678"),
        role_note: "πολίτης / citizen",
    },
    DemoPerson {
        afm: "012312312",
        first_name: "Δημήτρης",
        last_name: "Κωνσταντίνου",
        father_name: "Νικόλαος",
        mother_name: "Αικατερίνη",
        birth_year: 1979,
        mobile: Some("+306923456789"),
        role_note: "υπάλληλος Κοινωνικής Πρόνοιας Καλαμάτας / staff, Kalamata Social Welfare",
    },
    DemoPerson {
        afm: "094019245",
        first_name: "Ελένη",
        last_name: "Γεωργίου",
        father_name: "Παναγιώτης",
        mother_name: "Σοφία",
        birth_year: 1982,
        mobile: Some("+306934567890"),
        role_note: "διαχειρίστρια Δήμου Καλαμάτας / municipality admin, Kalamata",
    },
    DemoPerson {
        afm: "090000045",
        first_name: "Γιώργος",
        last_name: "Νικολάου",
        father_name: "Αντώνιος",
        mother_name: "Μαρία",
        birth_year: 1975,
        mobile: Some("+306945678901"),
        role_note: "διαχειριστής πλατφόρμας / platform admin",
    },
    DemoPerson {
        afm: PHOTOGRAPHER,
        first_name: "Κώστας",
        last_name: "Φωτίου",
        father_name: "Ιωάννης",
        mother_name: "Δέσποινα",
        birth_year: 1988,
        mobile: Some("+306956789012"),
        role_note: "φωτογράφος, Φωτογραφείο Φως / photographer, Fos photo studio",
    },
    DemoPerson {
        afm: CONSENTING_CITIZEN,
        first_name: "Νικόλαος",
        last_name: "Αλεξίου",
        father_name: "Βασίλειος",
        mother_name: "Ιωάννα",
        birth_year: 1971,
        mobile: Some("+306967890123"),
        role_note: "πολίτης με συνδεδεμένες φωτογραφίες, εξουσιοδότηση στο Υπουργείο Μεταφορών / citizen with linked photos, authorized for the Ministry of Transport",
    },
    DemoPerson {
        afm: "801234560",
        first_name: "Σοφία",
        last_name: "Μιχαηλίδου",
        father_name: "Χρήστος",
        mother_name: "Άννα",
        birth_year: 1990,
        mobile: None,
        role_note: "πολίτης χωρίς πιστοποιημένο κινητό / citizen with no certified mobile",
    },
];

const ID_CARD: (&str, &str) = (
    "Αστυνομική ταυτότητα ή διαβατήριο",
    "Identity card or passport",
);

const MUNICIPALITIES: &[DemoMunicipality] = &[
    DemoMunicipality {
        name: ("Δήμος Καλαμάτας", "Municipality of Kalamata"),
        email: "info@kalamata.example",
        departments: &[
            DemoDepartment {
                name: ("Κοινωνική Πρόνοια", "Social Welfare"),
                email: "pronoia@kalamata.example",
                services: &[
                    DemoService {
                        name: ("Ελάχιστο Εγγυημένο Εισόδημα", "Guaranteed Minimum Income"),
                        description: (
                            "Υποστήριξη για αιτήσεις, ανανεώσεις και ενστάσεις.",
                            "Help with applications, renewals and objections.",
                        ),
                        duration_minutes: 20,
                        legal_entity_documents: &[],
                        required_documents: &[
                            ID_CARD,
                            (
                                "Εκκαθαριστικό σημείωμα φόρου εισοδήματος",
                                "Income tax assessment",
                            ),
                        ],
                    },
                    DemoService {
                        name: ("Επίδομα Στέγασης", "Housing Allowance"),
                        description: (
                            "Αιτήσεις και δικαιολογητικά.",
                            "Applications and supporting documents.",
                        ),
                        duration_minutes: 20,
                        legal_entity_documents: &[],
                        required_documents: &[ID_CARD, ("Μισθωτήριο συμβόλαιο", "Lease agreement")],
                    },
                    DemoService {
                        name: ("Προνοιακά Επιδόματα ΑμεΑ", "Disability Welfare Benefits"),
                        description: (
                            "Επιδόματα για άτομα με αναπηρία και τις οικογένειές τους.",
                            "Benefits for people with disabilities and their families.",
                        ),
                        duration_minutes: 30,
                        legal_entity_documents: &[],
                        required_documents: &[
                            ID_CARD,
                            (
                                "Γνωμάτευση ΚΕΠΑ σε ισχύ",
                                "Valid disability certificate (KEPA)",
                            ),
                        ],
                    },
                    DemoService {
                        name: (
                            "Ενίσχυση Κοινωφελών Συλλόγων",
                            "Support for Charitable Associations",
                        ),
                        description: (
                            "Βεβαιώσεις και συνεργασίες για σωματεία και συλλόγους.",
                            "Certificates and partnerships for associations and societies.",
                        ),
                        duration_minutes: 15,
                        legal_entity_documents: &[
                            (
                                "Καταστατικό του νομικού προσώπου",
                                "The legal entity's statutes",
                            ),
                            (
                                "Πρακτικό Δ.Σ. που εξουσιοδοτεί τον εκπρόσωπο",
                                "Board minutes authorizing the representative",
                            ),
                        ],
                        required_documents: &[ID_CARD],
                    },
                ],
            },
            DemoDepartment {
                name: ("Δημοτολόγιο", "Civil Registry"),
                email: "dimotologio@kalamata.example",
                services: &[DemoService {
                    name: (
                        "Πιστοποιητικό Οικογενειακής Κατάστασης",
                        "Family Status Certificate",
                    ),
                    description: ("Έκδοση σε έντυπη μορφή.", "Issued on paper."),
                    duration_minutes: 10,
                    legal_entity_documents: &[],
                    required_documents: &[ID_CARD],
                }],
            },
        ],
    },
    DemoMunicipality {
        name: ("Δήμος Σπάρτης", "Municipality of Sparta"),
        email: "info@sparti.example",
        departments: &[DemoDepartment {
            name: ("Κοινωνική Υπηρεσία", "Social Services"),
            email: "koinoniki@sparti.example",
            services: &[
                DemoService {
                    name: ("Κοινωνικό Παντοπωλείο", "Social Grocery"),
                    description: ("Εγγραφή ωφελούμενων.", "Registration of beneficiaries."),
                    duration_minutes: 15,
                    legal_entity_documents: &[],
                    required_documents: &[ID_CARD],
                },
                DemoService {
                    name: ("Βοήθεια στο Σπίτι", "Help at Home"),
                    description: (
                        "Ένταξη ηλικιωμένων στο πρόγραμμα κατ' οίκον φροντίδας.",
                        "Enrolment of older people in the home-care programme.",
                    ),
                    duration_minutes: 30,
                    legal_entity_documents: &[],
                    required_documents: &[ID_CARD, ("Ιατρική γνωμάτευση", "Medical report")],
                },
            ],
        }],
    },
];

/// Seeds the catalogue when it is empty; answers whether it did. One
/// transaction, so a failed seed leaves nothing half-written.
pub fn seed(conn: &mut DbConn, now: DateTime<Utc>) -> anyhow::Result<bool> {
    crate::db::write_transaction(conn, |tx| {
        if store::count_municipalities(tx)? > 0 {
            return Ok(false);
        }
        let now = now.naive_utc();
        let mut first_department = None;
        for municipality in MUNICIPALITIES {
            let municipality_id = MunicipalityId::generate();
            store::insert_municipality(
                tx,
                &MunicipalityRow {
                    id: municipality_id.clone(),
                    name_el: municipality.name.0.into(),
                    name_en: municipality.name.1.into(),
                    contact_email: municipality.email.into(),
                    time_zone: "Europe/Athens".into(),
                    created_at: now,
                },
            )?;
            for department in municipality.departments {
                let department_id = DepartmentId::generate();
                store::insert_department(
                    tx,
                    &DepartmentRow {
                        id: department_id.clone(),
                        municipality_id: municipality_id.clone(),
                        name_el: department.name.0.into(),
                        name_en: department.name.1.into(),
                        email: department.email.into(),
                        created_at: now,
                    },
                )?;
                for service in department.services {
                    insert_demo_service(tx, &department_id, service, now)?;
                }
                first_department.get_or_insert((municipality_id.clone(), department_id));
            }
        }
        let (kalamata, welfare) = first_department.expect("the demo has departments");
        seed_people(tx, &kalamata, &welfare, now)?;
        Ok(true)
    })
}

/// The demo opening hours: weekdays 08:30 to 14:30, two seats per slot,
/// booking from an hour ahead up to 60 days.
fn demo_schedule() -> Schedule {
    let range = |weekday| OpeningRange {
        weekday,
        from: NaiveTime::from_hms_opt(8, 30, 0).expect("a valid time"),
        to: NaiveTime::from_hms_opt(14, 30, 0).expect("a valid time"),
    };
    Schedule {
        weekly_hours: [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .map(range)
        .collect(),
        seats_per_slot: 2,
        min_notice_minutes: 60,
        max_advance_days: 60,
        closed_dates: Vec::new(),
        open_dates: Vec::new(),
    }
}

/// Keeps `days` of slots ahead for every scheduled service, so a demo
/// started weeks later still has something to book. Idempotent.
pub fn top_up_slots(conn: &mut DbConn, days: u32, now: DateTime<Utc>) -> anyhow::Result<usize> {
    if days == 0 {
        return Ok(0);
    }
    crate::db::write_transaction(conn, |tx| {
        let today = now.with_timezone(&chrono_tz::Europe::Athens).date_naive();
        let mut created = 0;
        for service in schedule::store::scheduled_services(tx)? {
            let context = service_context(tx, &service)?;
            let until = today + chrono::Days::new(u64::from(days - 1));
            created += schedule::materialize(tx, &context, today, until, now.naive_utc())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .created;
        }
        Ok(created)
    })
}

/// Certified mobiles and roles of the demo people.
fn seed_people(
    conn: &mut DbConn,
    kalamata: &MunicipalityId,
    welfare: &DepartmentId,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let afm = |value: &str| Afm::parse(value).expect("demo AFMs are valid");
    for person in DEMO_PEOPLE {
        if let Some(mobile) = person.mobile {
            let mobile = Phone::parse(mobile).expect("demo mobiles are valid");
            contact_registry::store_mobile(conn, &afm(person.afm), &mobile, now)?;
        }
    }
    let grants = [
        ("090000045", ScopedRole::PlatformAdmin),
        ("094019245", ScopedRole::MunicipalityAdmin(kalamata.clone())),
        ("012312312", ScopedRole::Staff(welfare.clone())),
    ];
    for (person, held) in grants {
        roles::grant(conn, &afm(person), &held, "demo", now)?;
    }
    Ok(())
}

fn insert_demo_service(
    conn: &mut DbConn,
    department_id: &DepartmentId,
    service: &DemoService,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let service_id = ServiceId::generate();
    let documents = |purpose, list: &'static [(&str, &str)]| {
        let service_id = &service_id;
        list.iter().enumerate().map(move |(position, (el, en))| {
            DocumentRow::new(service_id, purpose, position, ((*el).into(), (*en).into()))
        })
    };
    let all: Vec<DocumentRow> =
        documents(DocumentPurpose::LegalEntity, service.legal_entity_documents)
            .chain(documents(
                DocumentPurpose::BeforeVisit,
                service.required_documents,
            ))
            .collect();
    store::insert_service(
        conn,
        &ServiceRow {
            id: service_id.clone(),
            department_id: department_id.clone(),
            name_el: service.name.0.into(),
            name_en: service.name.1.into(),
            description_el: service.description.0.into(),
            description_en: service.description.1.into(),
            duration_minutes: service.duration_minutes,
            serves_legal_entities: !service.legal_entity_documents.is_empty(),
            created_at: now,
        },
        &all,
    )?;
    let schedule = ScheduleRow::new(service_id, &demo_schedule(), now)
        .expect("the demo schedule fits its columns");
    schedule::store::save_schedule(conn, &schedule)
}
