if SIMULATE:

    rule simulate:
        """Write the synthetic dataset in the SingleWordProductionDutch-iBIDS layout."""
        output:
            participants=f"{BIDS}/participants.tsv",
            description=f"{BIDS}/dataset_description.json",
            truth=f"{BIDS}/derivatives/simulation/word_features.tsv",
            channels=f"{BIDS}/derivatives/simulation/channels.tsv",
            subjects=expand(
                "{root}/sub-{subject}/ieeg/sub-{subject}_task-wordProduction_{suffix}",
                root=BIDS,
                subject=SUBJECTS,
                suffix=[
                    "ieeg.nwb",
                    "channels.tsv",
                    "events.tsv",
                    "space-ACPC_electrodes.tsv",
                    "space-ACPC_coordsystem.json",
                ],
            ),
        params:
            simulation=config["simulation"],
        log:
            "results/logs/simulate.log",
        threads: 1
        resources:
            mem_mb=2000,
        conda:
            ENV
        script:
            "../scripts/simulate.py"
