"""The demo post "I dream of ketamine" and its visible comments, from the project's seed."""

from dataclasses import dataclass

THREAD = "i-dream-of-ketamine"
TITLE = "I dream of ketamine"

# (tag, text): the post body, paragraph by paragraph.
POST: list[tuple[str, str]] = [
    (
        "p",
        "I love Canada, but sometimes we’re a little behind.  Drugs are slower to get approved "
        "by Health Canada compared to the US, and we have fewer clinical trials going on here.  I "
        "would be really interested in trying out ketamine, but it doesn’t have Health Canada "
        "approval for use in depression, there are no clinical trials in my neck of the woods "
        "accepting new patients, and going to a private clinic in the US would be extremely "
        "expensive.  So for now, all I can do is dream of ketamine.  But in the meantime, what is "
        "ketamine and how does it work?",
    ),
    (
        "p",
        "Ketamine has been in use for some time as an anaesthetic drug, and it has been abused as "
        "the club drug Special K.  In the last several years multiple research trials have shown "
        "that it has a rapid onset antidepressant effect (within about 24 hours).  It increases "
        "rates of remission in major disorder, but the effect is not as pronounced for bipolar "
        "depression.  It appears to have a protective effect against suicide, and unlike many "
        "antidepressants it doesn’t appear to trigger mania.",
    ),
    ("h2", "Mechanism of action"),
    (
        "p",
        "It has a different mechanism of action than other antidepressant medications.  It acts "
        "on NMDA and AMPA receptors, affecting the balance between the calming neurotransmitter GABA "
        "and the excitatory/stress neurotransmitter glutamate.  It also boosts production of BDNF "
        "(brain-derived neurotropic factor), which in turn promotes the formation of new synaptic "
        "connections in the brain.  It has been suggested that people with depression may have "
        "abnormalities related to their NMDA receptors and experience what’s referred to "
        "“excitotoxicity” from glutamate overactivity.",
    ),
    (
        "p",
        "Ketamine is typically given at a dose of 0.4-0.5 mg per kg of body weight, which is a "
        "lower dose than would be used for anaesthesia, with 1-2 doses per week.  The effect from "
        "each dose typically lasts 3-7 days, but can last up to 15 days.  It can be given as an "
        "intravenous infusion, or the esketamine version of the drug is available as a nasal spray.",
    ),
    ("h2", "Side effects"),
    (
        "p",
        "Apparently side effects are generally mild and wear off within 2 hours.  While harmful "
        "effects to the bladder can occur at high doses, this hasn’t been demonstrated at the doses "
        "used for depression treatment.  It can have dissociative effects while the drug is being "
        "infused and in that 2 hours window after the dose, which could potentially limit the "
        "tolerability for some people.  It can trigger spikes in heart rate and blood pressure, as "
        "well as headaches, dizziness, blurred vision, drowsiness, abnormal sensations, and "
        "perceptual disturbances.  Patients remain in the clinic for a period of time following the "
        "dose so that they can be monitored.",
    ),
    ("p", "What are your thoughts?  Have you had any experience with ketamine?"),
    (
        "p",
        "You can find out more about ketamine and other medications in my book Psych Meds Made "
        "Simple: How & Why They Do What They Do, available on Amazon.",
    ),
]


@dataclass(frozen=True)
class SeedComment:
    name: str
    body: str
    likes: int


COMMENTS = [
    SeedComment(
        "kbr0632",
        "Wow..sounds like a great drug. But I don’t like the side effects. However, when I am in "
        "a serious depression…as I know others can tend to fall into..maybe the pros could "
        "outweigh the cons. If only those side effects were not part of the dosage (the rapid "
        "heart rate, dissociative). If only a drug like this could work…without those serious "
        "risks. Looks like we are making progress I guess with meds like this. But not sure I am "
        "willing to take that risk right now.",
        1,
    ),
    SeedComment(
        "Alexis Rose",
        "I think its interesting how there is research being done with certain drugs and how "
        "they help with different mental illness. I know there are some trials with good success "
        "going on right now with MDMA and PTSD. Heres hoping for more options!",
        2,
    ),
    SeedComment(
        "Secrets of Supressed Trauma",
        "I’ve used Ketamine recreationally and I can tell you being someone diagnosed with "
        "bipolar depression the whole time I felt like I was falling. I was falling in what they "
        "call a, “K hole” its as if you’re falling down a rabbit hole and never going to hit a "
        "bottom, well until it wears off.",
        1,
    ),
    SeedComment(
        "soberonketamine",
        "I tried it and definitely had a positive result–though as a sober AA member, I’ve always "
        "liked all kinds of drugs. This one makes me feel awfully conflicted (which is why I set "
        "up a blog, hoping to meet other sober folks who’ve used ket for PTSD…..",
        1,
    ),
]
