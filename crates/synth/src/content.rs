//! The wording of plans: services, goals, life areas and routine notes in the words
//! real plans use (docs/DOMAIN.md, "What real plans look like"), per act.

use chrono::NaiveDate;
use planledger_plan::{
    ActKind, Client, ClinicalOrderRef, Clinician, Collaboration, FollowUpPlan, KeyWorkerRef,
    LifeArea, PartOfDay, Participant, ParticipantRole, Participation, Partner, PlanContent,
    RepresentativeKind, RoutineNote, RoutineTopic, Schedule, Service, TimeOfDay, TimedNeed, UserId,
    Weekday,
};

use crate::client::Profile;
use crate::config::{Organisation, Unit};
use crate::rng::{Rng, Stream};

/// Which weekdays a service comes; the weekday itself is drawn per client.
#[derive(Clone, Copy)]
enum Days {
    Every,
    Weekdays,
    One,
    Two,
}

/// A service as the catalogue knows it; `who` is prefixed with the unit's name.
struct Template {
    what: &'static str,
    days: Days,
    time: Option<((u8, u8), (u8, u8))>,
    part: Option<PartOfDay>,
    every_weeks: u8,
    note: &'static str,
    how: &'static str,
    who: &'static str,
    goal: &'static str,
}

// Positional, so that each catalogue entry reads as one row of a table.
#[allow(clippy::too_many_arguments)]
const fn t(
    what: &'static str,
    days: Days,
    time: Option<((u8, u8), (u8, u8))>,
    part: Option<PartOfDay>,
    every_weeks: u8,
    note: &'static str,
    how: &'static str,
    who: &'static str,
    goal: &'static str,
) -> Template {
    Template {
        what,
        days,
        time,
        part,
        every_weeks,
        note,
        how,
        who,
        goal,
    }
}

use Days::{Every, One, Two, Weekdays};
use PartOfDay::{Afternoon, Forenoon, Morning, Night};

const MORNING_CARE: Template = t(
    "Personlig omvårdnad, morgon",
    Every,
    Some(((7, 30), (8, 15))),
    None,
    1,
    "",
    "Personal väcker kunden och hjälper med toalettbesök, på- och avklädning; kunden tvättar själv ansiktet och väljer kläder",
    "ordinarie personal",
    "Kunden kommer igång med dagen i lugn takt och känner sig fräsch",
);
const EVENING_CARE: Template = t(
    "Personlig omvårdnad, kväll",
    Every,
    Some(((20, 0), (20, 30))),
    None,
    1,
    "",
    "Personal hjälper kunden med kvällstoalett och att gå i säng; kunden bestämmer själv när hen vill lägga sig",
    "ordinarie personal",
    "Kunden känner sig trygg inför natten",
);
const SHOWER: Template = t(
    "Dusch",
    One,
    Some(((9, 0), (9, 45))),
    None,
    1,
    "",
    "Två personal; kunden tvättar själv ansikte och armar, personal hjälper med rygg och ben",
    "två personal ur arbetsgruppen",
    "Kunden känner sig ren och trygg i duschen",
);
const MEDICATION: Template = t(
    "Påminnelse om läkemedel",
    Every,
    Some(((8, 0), (8, 10))),
    None,
    1,
    "",
    "Personal påminner kunden att ta läkemedlen ur dosetten och ser att de är tagna; ordinationen finns hos sjuksköterskan",
    "ordinarie personal",
    "Kunden tar sina läkemedel i rätt tid",
);
const CLEANING: Template = t(
    "Städning",
    One,
    Some(((13, 0), (14, 0))),
    None,
    2,
    "varannan vecka",
    "Personal dammsuger, våttorkar golv och rengör badrum och kök; kunden torkar själv av köksbordet",
    "ordinarie personal",
    "Kunden bor i ett rent och trivsamt hem",
);

const HOME_CARE: &[Template] = &[
    MORNING_CARE,
    EVENING_CARE,
    SHOWER,
    t(
        "Inköp",
        One,
        None,
        Some(Forenoon),
        1,
        "",
        "Kunden skriver inköpslista med stöd av personal; personal handlar i närbutiken och packar upp varorna tillsammans med kunden",
        "ordinarie personal",
        "Kunden har den mat hen tycker om hemma",
    ),
    CLEANING,
    t(
        "Tvätt",
        One,
        Some(((10, 0), (11, 0))),
        None,
        1,
        "",
        "Personal tvättar i tvättstugan; kunden viker själv tvätten sittande vid köksbordet",
        "ordinarie personal",
        "Kunden har rena kläder och rent sänglinne",
    ),
    t(
        "Matdistribution",
        Weekdays,
        Some(((11, 30), (11, 45))),
        None,
        1,
        "",
        "Personal lämnar lunchlåda och värmer den om kunden vill; kunden väljer rätt ur veckomenyn",
        "matdistributionen",
        "Kunden äter ett lagat mål mat varje dag",
    ),
    t(
        "Trygghetslarm",
        Every,
        None,
        Some(Night),
        1,
        "larmet besvaras dygnet runt",
        "Kunden bär larmknappen runt handleden; vid larm ringer larmcentralen upp och personal åker hem till kunden",
        "larmpatrullen",
        "Kunden kan få hjälp snabbt och känner sig trygg ensam hemma",
    ),
    t(
        "Tillsyn",
        Every,
        Some(((14, 0), (14, 15))),
        None,
        1,
        "",
        "Personal ringer på, hälsar och ser att kunden mår bra; kunden vill inte bli väckt om hen vilar",
        "ordinarie personal",
        "Kunden och de närstående vet att någon tittar till kunden varje dag",
    ),
    t(
        "Ledsagning",
        One,
        None,
        Some(Afternoon),
        2,
        "varannan vecka",
        "Personal följer kunden till frisör, bank eller vårdcentral efter kundens önskemål; kunden går med rullator",
        "kontaktpersonen",
        "Kunden kan sköta sina ärenden och träffa andra utanför hemmet",
    ),
    MEDICATION,
];

const RESIDENTIAL_CARE: &[Template] = &[
    MORNING_CARE,
    EVENING_CARE,
    SHOWER,
    MEDICATION,
    CLEANING,
    t(
        "Måltider",
        Every,
        Some(((12, 0), (13, 0))),
        None,
        1,
        "frukost 08.00 och middag 17.00 på samma sätt",
        "Kunden äter i matsalen vid fönsterbordet; personal skär maten och erbjuder påfyllning",
        "personal på avdelningen",
        "Kunden äter sig mätt och trivs vid måltiderna",
    ),
    t(
        "Social samvaro",
        Two,
        Some(((14, 0), (15, 0))),
        None,
        1,
        "",
        "Kunden deltar i sångstund och högläsning i dagrummet; personal påminner och följer kunden dit",
        "aktivitetsombudet",
        "Kunden träffar andra och har meningsfulla stunder",
    ),
    t(
        "Promenad",
        Two,
        Some(((10, 30), (11, 15))),
        None,
        1,
        "vid regn på balkongen",
        "Personal går med kunden en runda i parken; kunden går med rullator och bestämmer takten",
        "kontaktpersonen",
        "Kunden behåller sin gångförmåga och kommer ut i friska luften",
    ),
    t(
        "Förflyttning med lift",
        Every,
        None,
        Some(Morning),
        1,
        "vid varje förflyttning mellan säng och rullstol",
        "Två personal använder taklift enligt arbetsterapeutens förflyttningsordination; personal berättar vad som ska hända",
        "två personal på avdelningen",
        "Kunden förflyttas säkert och utan smärta",
    ),
    t(
        "Nattillsyn",
        Every,
        Some(((23, 0), (23, 10))),
        None,
        1,
        "samt 03.00",
        "Personal tittar till kunden tyst i dörren och vänder kunden vid behov enligt ordination",
        "nattpersonalen",
        "Kunden sover tryggt och får hjälp vid behov",
    ),
];

const LSS_DAILY_ACTIVITY: &[Template] = &[
    t(
        "Arbetsuppgifter",
        Weekdays,
        Some(((9, 0), (11, 30))),
        None,
        1,
        "",
        "Kunden packar och sorterar material på verkstaden med bildstöd som visar arbetsmomenten; personal visar nya moment",
        "handledare på verkstaden",
        "Kunden utför sina arbetsuppgifter så självständigt som möjligt",
    ),
    t(
        "Sociala aktiviteter",
        One,
        Some(((13, 0), (14, 30))),
        None,
        1,
        "",
        "Kunden väljer mellan bowling, musikgrupp och bakning på veckomötet; personal följer med",
        "aktivitetshandledare",
        "Kunden har roligt och träffar andra",
    ),
    t(
        "Kommunikationsstöd",
        Weekdays,
        None,
        Some(Morning),
        1,
        "hela dagen",
        "Personal använder tecken som stöd och kundens bildkarta och ger tid att svara",
        "all personal i gruppen",
        "Kunden kan uttrycka sina val och bli förstådd",
    ),
    t(
        "Måltidsstöd",
        Weekdays,
        Some(((11, 30), (12, 15))),
        None,
        1,
        "",
        "Kunden äter lunch i matsalen; personal skär maten och påminner om att äta i lugn takt",
        "personal i gruppen",
        "Kunden äter en lugn och näringsrik lunch",
    ),
    t(
        "Munvård",
        Weekdays,
        Some(((12, 15), (12, 25))),
        None,
        1,
        "",
        "Personal stödjer kunden att borsta tänderna efter lunch så att inga rester blir kvar i gommen",
        "personal i gruppen",
        "Kunden har en frisk mun",
    ),
    t(
        "Vila",
        Weekdays,
        Some(((13, 0), (13, 30))),
        None,
        1,
        "",
        "Kunden vilar i vilrummet med tyngdtäcke; personal väcker kunden efter 30 minuter",
        "personal i gruppen",
        "Kunden orkar med eftermiddagens aktiviteter",
    ),
];

const HOUSING_SUPPORT: &[Template] = &[
    t(
        "Stöd i vardagen",
        One,
        Some(((10, 0), (11, 0))),
        None,
        1,
        "",
        "Kunden och stödpersonen planerar veckan på en veckotavla; kunden bestämmer själv vad som ska med",
        "stödpersonen",
        "Kunden har struktur på veckan och hinner med det hen vill",
    ),
    t(
        "Ekonomi",
        One,
        Some(((13, 0), (14, 0))),
        None,
        2,
        "varannan vecka",
        "Stödpersonen och kunden går igenom räkningarna och betalar dem i internetbanken; kunden loggar in själv",
        "stödpersonen",
        "Kunden betalar sina räkningar i tid",
    ),
    t(
        "Myndighetskontakter",
        One,
        None,
        Some(Afternoon),
        1,
        "vid behov",
        "Stödpersonen hjälper kunden att ringa och skriva till Försäkringskassan och vårdcentralen",
        "stödpersonen",
        "Kunden kan sköta sina kontakter med myndigheter",
    ),
    t(
        "Promenad",
        Two,
        Some(((15, 0), (16, 0))),
        None,
        1,
        "",
        "Kunden och stödpersonen promenerar i närområdet; kunden väljer väg",
        "stödpersonen",
        "Att bryta kundens isolering",
    ),
    t(
        "Stöd vid städning",
        One,
        Some(((9, 30), (11, 0))),
        None,
        2,
        "varannan vecka",
        "Kunden städar med en bildchecklista; stödpersonen finns med och påminner",
        "stödpersonen",
        "Kunden håller ordning i sin lägenhet på egen hand",
    ),
    t(
        "Stöd vid inköp",
        One,
        None,
        Some(Forenoon),
        1,
        "",
        "Kunden gör inköpslista och handlar själv; stödpersonen följer med till affären",
        "stödpersonen",
        "Kunden handlar mat för veckan inom sin budget",
    ),
];

fn catalogue(act: ActKind) -> &'static [Template] {
    match act {
        ActKind::HomeCare => HOME_CARE,
        ActKind::ResidentialCare => RESIDENTIAL_CARE,
        ActKind::LssDailyActivity => LSS_DAILY_ACTIVITY,
        ActKind::HousingSupport => HOUSING_SUPPORT,
    }
}

/// The catalogue indexes of the client's services, in the client's own order.
fn service_indexes(profile: &Profile) -> Vec<usize> {
    let mut order: Vec<usize> = (0..catalogue(profile.act).len()).collect();
    let mut r = Rng::new(profile.service_order);
    for i in (1..order.len()).rev() {
        order.swap(i, r.below(i as u64 + 1) as usize);
    }
    order
}

/// How many services the plan holds after `decisions` new decisions (each adds one).
fn service_count(profile: &Profile, decisions: u32) -> usize {
    (usize::from(profile.base_services) + decisions as usize).min(catalogue(profile.act).len())
}

/// The service names of the client's plan after `decisions` new decisions: what the
/// order grants.
pub(crate) fn granted_services(profile: &Profile, decisions: u32) -> Vec<String> {
    let cat = catalogue(profile.act);
    service_indexes(profile)
        .into_iter()
        .take(service_count(profile, decisions))
        .map(|i| cat[i].what.to_owned())
        .collect()
}

/// The name of one of the client's current services, for a deviation.
pub(crate) fn service_name(profile: &Profile, decisions: u32, pick: u64) -> &'static str {
    let cat = catalogue(profile.act);
    let idx = service_indexes(profile);
    let n = service_count(profile, decisions) as u64;
    cat[idx[(pick % n) as usize]].what
}

const WORKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

fn schedule(tpl: &Template, r: &mut Rng) -> Schedule {
    let days = match tpl.days {
        Every => Weekday::ALL.to_vec(),
        Weekdays => WORKDAYS.to_vec(),
        One => vec![*r.pick(&WORKDAYS)],
        Two => {
            let first = r.below(3) as usize;
            vec![WORKDAYS[first], WORKDAYS[first + 2]]
        }
    };
    let time = |(h, m): (u8, u8)| TimeOfDay::new(h, m).expect("catalogue times are valid");
    Schedule {
        days,
        start: tpl.time.map(|(s, _)| time(s)),
        end: tpl.time.map(|(_, e)| time(e)),
        part_of_day: tpl.part,
        every_weeks: tpl.every_weeks,
        note: tpl.note.to_owned(),
    }
}

/// What a version is drawn up with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionSpec {
    pub(crate) drawn_up_on: NaiveDate,
    pub(crate) service_starts_on: NaiveDate,
    pub(crate) follow_up_on: NaiveDate,
    pub(crate) decisions: u32,
}

pub(crate) struct KeyWorker<'a> {
    pub(crate) name: &'a str,
    pub(crate) user: &'a UserId,
}

/// One whole version of the client's plan. Complete unless the client's plan is one of
/// the incomplete share; then a service lacks who and when and the client's
/// participation is not described.
pub(crate) fn plan_content(
    org: &Organisation,
    unit: &Unit,
    profile: &Profile,
    key_worker: KeyWorker<'_>,
    spec: VersionSpec,
) -> PlanContent {
    let cat = catalogue(profile.act);
    let mut services: Vec<Service> = service_indexes(profile)
        .into_iter()
        .take(service_count(profile, spec.decisions))
        .map(|i| {
            // Per client and service, not per version: a service keeps its weekday.
            let mut r = Rng::derive(
                org.seed,
                Stream::Content,
                u64::from(profile.index),
                i as u64,
            );
            let tpl = &cat[i];
            Service {
                what: tpl.what.to_owned(),
                when: schedule(tpl, &mut r),
                how: tpl.how.to_owned(),
                who: format!("{}, {}", unit.name, tpl.who),
                goal: tpl.goal.to_owned(),
            }
        })
        .collect();
    let lss = profile.act == ActKind::LssDailyActivity;
    let mut participation = Participation {
        client_took_part: true,
        how: if lss {
            "Kunden deltog i samtalet på daglig verksamhet med stöd av bildkarta och tecken som stöd".to_owned()
        } else {
            "Kunden deltog i planeringsmötet hemma och berättade hur hen vill ha sitt stöd"
                .to_owned()
        },
        views_considered: if lss {
            "Kunden valde själv arbetsuppgifter och aktiviteter; önskemål om fler pauser är inskrivna".to_owned()
        } else {
            "Kundens önskemål om tider och om att göra så mycket som möjligt själv styr planen"
                .to_owned()
        },
    };
    if profile.incomplete {
        if let Some(last) = services.last_mut() {
            last.who.clear();
            last.when = Schedule::default();
        }
        participation.how.clear();
        participation.client_took_part = false;
    }
    let mut participants = vec![Participant {
        name: "Kontaktperson".to_owned(),
        role: ParticipantRole::KeyWorker,
    }];
    match profile.representative {
        Some(RepresentativeKind::Trustee) => participants.push(Participant {
            name: "God man".to_owned(),
            role: ParticipantRole::Trustee,
        }),
        Some(RepresentativeKind::Guardian) => participants.push(Participant {
            name: "Förvaltare".to_owned(),
            role: ParticipantRole::Guardian,
        }),
        None => participants.push(Participant {
            name: "Närstående".to_owned(),
            role: ParticipantRole::Relative,
        }),
    }
    let mut collaboration = vec![Collaboration {
        with: Partner::CaseOfficer,
        how: "Planen skickas till biståndshandläggaren efter varje ny version".to_owned(),
    }];
    let mut clinical_orders = Vec::new();
    let mut goals = Vec::new();
    let mut life_areas = Vec::new();
    match profile.act {
        ActKind::ResidentialCare => {
            participants.push(Participant {
                name: "Sjuksköterska".to_owned(),
                role: ParticipantRole::Nurse,
            });
            collaboration.push(Collaboration {
                with: Partner::HealthCare,
                how: "Sjuksköterska och arbetsterapeut deltar vid uppföljning och ändrade behov"
                    .to_owned(),
            });
            clinical_orders.push(ClinicalOrderRef {
                by: Clinician::OccupationalTherapist,
                subject: "förflyttning".to_owned(),
                where_to_read: "Förflyttningsordinationen finns i kundens akt på avdelningen"
                    .to_owned(),
            });
            goals.push("Kunden lever ett tryggt och värdigt liv på boendet".to_owned());
        }
        ActKind::HomeCare => {
            collaboration.push(Collaboration {
                with: Partner::HealthCare,
                how: "Kontakt med distriktssköterskan vid förändrat hälsotillstånd".to_owned(),
            });
            goals.push("Kunden kan bo kvar hemma tryggt".to_owned());
        }
        ActKind::LssDailyActivity => {
            collaboration.push(Collaboration {
                with: Partner::OtherProvider,
                how: "Överlämning till gruppbostaden vid hemgång varje dag".to_owned(),
            });
            clinical_orders.push(ClinicalOrderRef {
                by: Clinician::Nurse,
                subject: "läkemedel vid epilepsianfall".to_owned(),
                where_to_read: "Ordinationen finns i kundens akt, flik Ordinationer".to_owned(),
            });
            goals.push(
                "Kunden har en meningsfull sysselsättning och utvecklas i sin takt".to_owned(),
            );
            let mut r = Rng::derive(org.seed, Stream::Content, u64::from(profile.index), 999);
            let first = r.below(LIFE_AREAS.len() as u64) as usize;
            for k in 0..2 {
                life_areas.push(life_area(&LIFE_AREAS[(first + k) % LIFE_AREAS.len()]));
            }
            if profile.incomplete {
                life_areas[1].assessed_function.clear();
            }
        }
        ActKind::HousingSupport => {
            goals.push("Kunden klarar sitt eget boende och sin vardag".to_owned());
        }
    }
    PlanContent {
        provider: org.provider.clone(),
        unit: unit.id.clone(),
        act: profile.act,
        client: Client {
            name: profile.name(),
            personnummer: profile.personnummer,
        },
        key_worker: Some(KeyWorkerRef {
            name: key_worker.name.to_owned(),
            user: Some(key_worker.user.clone()),
        }),
        drawn_up_on: Some(spec.drawn_up_on),
        adopted_on: Some(spec.drawn_up_on),
        service_starts_on: Some(spec.service_starts_on),
        follow_up: FollowUpPlan {
            on: Some(spec.follow_up_on),
            how: match profile.act {
                ActKind::LssDailyActivity => {
                    "Uppföljning med kunden, företrädare och kontaktperson på daglig verksamhet"
                }
                ActKind::HousingSupport => "Uppföljning med kunden och stödpersonen hemma",
                _ => "Uppföljning med kunden, närstående och kontaktperson",
            }
            .to_owned(),
        },
        services,
        goals,
        participation,
        participants,
        collaboration,
        clinical_orders,
        life_areas,
    }
}

struct LifeAreaTemplate {
    area: &'static str,
    assessed_function: &'static str,
    goal: &'static str,
    needs: &'static [(PartOfDay, &'static str)],
    notes: &'static [(RoutineTopic, &'static str)],
}

const LIFE_AREAS: [LifeAreaTemplate; 4] = [
    LifeAreaTemplate {
        area: "Arbete och sysselsättning",
        assessed_function: "Måttliga svårigheter att starta och avsluta uppgifter; lindriga med bildstöd",
        goal: "Kunden arbetar med packning två timmar per dag med stöd av bildschema",
        needs: &[
            (
                Morning,
                "Ankomst 08.30: personal möter kunden vid entrén och hjälper med ytterkläderna",
            ),
            (Forenoon, "Arbetspass 09.00–11.30 med paus klockan 10"),
            (
                Afternoon,
                "Kunden städar sin arbetsplats före hemgång 14.30",
            ),
        ],
        notes: &[
            (
                RoutineTopic::Arrival,
                "Kunden vill bli hälsad med namn och få en kopp te",
            ),
            (RoutineTopic::Rest, "Paus i soffan en kvart varje timme"),
        ],
    },
    LifeAreaTemplate {
        area: "Kommunikation",
        assessed_function: "Svåra svårigheter med tal; förstår korta meningar; lindriga med tecken som stöd",
        goal: "Kunden gör egna val med hjälp av bildkarta",
        needs: &[
            (Morning, "Genomgång av dagens bildschema vid ankomst"),
            (
                Afternoon,
                "Kunden berättar om dagen med bilder inför hemgång",
            ),
        ],
        notes: &[
            (
                RoutineTopic::Communication,
                "Tecken som stöd; vänta in svar och ställ en fråga i taget",
            ),
            (
                RoutineTopic::SightHearingSpeech,
                "Hörapparat på vänster öra; kontrollera batteriet på morgonen",
            ),
        ],
    },
    LifeAreaTemplate {
        area: "Hälsa och personlig vård",
        assessed_function: "Lindriga svårigheter; behöver påminnelse om handtvätt och munvård",
        goal: "Kunden sköter sin hygien på daglig verksamhet med påminnelse",
        needs: &[
            (Forenoon, "Handtvätt före fikat"),
            (Afternoon, "Munvård efter lunch"),
        ],
        notes: &[
            (RoutineTopic::Allergies, "Nötallergi; inga nötter i fikat"),
            (
                RoutineTopic::Medication,
                "Inga läkemedel på daglig verksamhet utom vid anfall, se ordination i akten",
            ),
        ],
    },
    LifeAreaTemplate {
        area: "Social samvaro och fritid",
        assessed_function: "Måttliga svårigheter i nya grupper; trivs i mindre grupp",
        goal: "Kunden deltar i en gruppaktivitet varje vecka",
        needs: &[
            (Forenoon, "Fika i mindre grupp klockan 10"),
            (Afternoon, "Musikgrupp på onsdagar klockan 13"),
        ],
        notes: &[
            (
                RoutineTopic::SocialActivities,
                "Tycker om dans och musik från 80-talet",
            ),
            (
                RoutineTopic::Anxiety,
                "Blir orolig vid högljudda miljöer; erbjud hörselkåpor",
            ),
        ],
    },
];

fn life_area(tpl: &LifeAreaTemplate) -> LifeArea {
    LifeArea {
        area: tpl.area.to_owned(),
        assessed_function: tpl.assessed_function.to_owned(),
        goal: tpl.goal.to_owned(),
        needs_and_services: tpl
            .needs
            .iter()
            .map(|(part_of_day, text)| TimedNeed {
                part_of_day: *part_of_day,
                text: (*text).to_owned(),
            })
            .collect(),
        routine_notes: tpl
            .notes
            .iter()
            .map(|(topic, note)| RoutineNote {
                topic: *topic,
                note: (*note).to_owned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use planledger_plan::{Gap, LifeAreaField, ServiceField, completeness};

    use super::*;
    use crate::client::Staffing;

    fn content_for(act: ActKind, incomplete: bool, decisions: u32) -> PlanContent {
        let org = Organisation {
            incomplete_share: if incomplete { 1.0 } else { 0.0 },
            ..Organisation::default()
        };
        let units = org.units();
        let unit = units.iter().find(|u| u.act == act).unwrap();
        let acts = [act];
        // Profiles of one act: every unit index maps to `act` here.
        let mut profile = Profile::new(&org, &acts, Staffing::of(&org), 7);
        profile.unit = 0;
        let user = UserId::new("kontakt-test-1").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let spec = VersionSpec {
            drawn_up_on: day,
            service_starts_on: day,
            follow_up_on: NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
            decisions,
        };
        let key_worker = KeyWorker {
            name: "Kontaktperson 1",
            user: &user,
        };
        plan_content(&org, unit, &profile, key_worker, spec)
    }

    #[test]
    fn complete_plans_have_no_gaps_for_any_act() {
        for act in ActKind::ALL {
            for decisions in [0, 1, 10] {
                let content = content_for(act, false, decisions);
                assert_eq!(completeness(&content, act), Vec::<Gap>::new(), "{act}");
            }
        }
    }

    #[test]
    fn incomplete_plans_lack_who_and_when_of_a_service_and_the_participation() {
        for act in ActKind::ALL {
            let content = content_for(act, true, 0);
            let gaps = completeness(&content, act);
            let n = content.services.len();
            for want in [
                Gap::Service {
                    service: n,
                    field: ServiceField::Who,
                },
                Gap::Service {
                    service: n,
                    field: ServiceField::When,
                },
                Gap::ParticipationNotDescribed,
            ] {
                assert!(gaps.contains(&want), "{act}: {want:?} not in {gaps:?}");
            }
            if act == ActKind::LssDailyActivity {
                assert!(gaps.contains(&Gap::LifeArea {
                    area: 2,
                    field: LifeAreaField::AssessedFunction
                }));
            }
        }
    }

    #[test]
    fn a_new_decision_adds_a_service_until_the_catalogue_is_used_up() {
        for act in ActKind::ALL {
            let before = content_for(act, false, 0).services.len();
            let after = content_for(act, false, 1).services.len();
            assert_eq!(after, (before + 1).min(catalogue(act).len()), "{act}");
            let all = content_for(act, false, 100).services;
            assert_eq!(all.len(), catalogue(act).len());
            let mut names: Vec<_> = all.iter().map(|s| s.what.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), all.len(), "{act}: a service twice");
        }
    }
}
